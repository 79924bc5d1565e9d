/*
 * shardline._speedups: the hot loop of the AttributeValue decoder in C.
 *
 * This is an accelerator, not a second codec. The pure Python fast path in _attributes.py (decode_pairs,
 * _decode and the _DECODERS table) is the reference: for every input it accepts, the functions here return
 * the same value (same types, same objects where Python returns the input's own objects), and they raise
 * (an exception of any kind) for exactly the inputs it refuses. The callers then run the careful walk of
 * _attributes.py over the refused value, so every error and message comes from the same Python code on both
 * paths. That includes the byte budget (see _BUDGET there): a one-element list shared by the calls that
 * decode one item, counted down by the same amounts, in the same order, with the same limits.
 *
 * The shapes are those of the "Data types" and "AttributeValue" pages of the Amazon DynamoDB developer guide
 * and API reference: S, N, B, BOOL, NULL, M, L, SS, NS and BS. What is rare or must stay bit-identical to
 * the Python code is delegated back to it through configure(): a number text the number cache does not hold
 * (_parse_number), binaries (_decode_b, _decode_bs: base64's strict rules differ between Python versions),
 * M values that are mappings but not dicts (_decode_m), and tags that are not str objects (looked up in
 * _DECODERS, as Python does).
 *
 * Built against the stable ABI of Python 3.10 (Py_LIMITED_API): one wheel per platform serves 3.10 to 3.13.
 * The limited API has no O(1) "is this text ASCII" test; the UTF-8 size of PyUnicode_AsUTF8AndSize (free for
 * ASCII text, whose UTF-8 form is its own storage) equals the length exactly for ASCII text, and it raises
 * for a lone surrogate, as str.encode() does on the Python path. (-DSHARDLINE_FULL_API compiles the same code
 * against the full API, for measuring what the stable ABI costs; it is never shipped.)
 */

#if !defined(Py_LIMITED_API) && !defined(SHARDLINE_FULL_API)
#define Py_LIMITED_API 0x030A0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* --------------------------------------------------------------------------------------------------
 * What configure() hands over. Set once at import by _attributes.py; read-only afterwards. */

static PyObject *Invalid;       /* _attributes._Invalid: what the Python fast path raises itself */
static PyObject *ParseNumber;   /* _parse_number(text) -> Decimal: the one reader of N text */
static PyObject *NumberCache;   /* _NUMBER_CACHE: dict of text -> Decimal, filled by _parse_number */
static PyObject *DecodeB;       /* _decode_b(value, depth, budget) */
static PyObject *DecodeBS;      /* _decode_bs(value, depth, budget) */
static PyObject *DecodeMapping; /* _decode_m(value, depth, budget), for M values that are not dicts */
static PyObject *Decoders;      /* _DECODERS: tag -> decoder, for tags that are not str objects */
static Py_ssize_t MaxDepth = 32;
static Py_ssize_t Small = 64;

/* Constants made at module creation. */
static PyObject *Empty;                  /* "" */
static PyObject *TagS, *TagN, *TagM, *TagL; /* for == against tags that are not str objects */

enum Kind { K_S, K_N, K_B, K_SS, K_NS, K_BS, K_M, K_L, K_NULL, K_BOOL, K_UNKNOWN, K_OBJECT };

/* --------------------------------------------------------------------------------------------------
 * The budget: budget[0] is held in a C integer while C works, and written back to the list before any call
 * into Python that may read it and at the end (also on failure, as Python leaves it where it stopped). */

typedef struct {
    PyObject *list;
    long long left;
    long long stored; /* the value the list holds */
} Budget;

static int
budget_load(Budget *b)
{
    if (!PyList_Check(b->list) || PyList_Size(b->list) < 1) {
        PyErr_SetString(PyExc_TypeError, "budget must be a list of one int");
        return -1;
    }
    long long left = PyLong_AsLongLong(PyList_GetItem(b->list, 0));
    if (left == -1 && PyErr_Occurred()) {
        return -1;
    }
    b->left = b->stored = left;
    return 0;
}

static int
budget_store(Budget *b)
{
    if (b->left == b->stored) {
        return 0;
    }
    PyObject *value = PyLong_FromLongLong(b->left);
    if (value == NULL || PyList_SetItem(b->list, 0, value) < 0) { /* steals value */
        return -1;
    }
    b->stored = b->left;
    return 0;
}

/* budget_store() while an exception is pending: keeps the exception. */
static void
budget_store_on_error(Budget *b)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (budget_store(b) < 0) {
        PyErr_Clear();
    }
    PyErr_Restore(type, value, traceback);
}

static int
spend(Budget *b, Py_ssize_t count)
{
    b->left -= count;
    if (b->left < 0) {
        PyErr_SetNone(Invalid);
        return -1;
    }
    return 0;
}

/* decoder(value, depth, budget) in Python, the budget synchronised around the call. */
static PyObject *
call_decoder(PyObject *decoder, PyObject *value, Py_ssize_t depth, Budget *b)
{
    PyObject *level = PyLong_FromSsize_t(depth);
    if (level == NULL || budget_store(b) < 0) {
        Py_XDECREF(level);
        return NULL;
    }
    PyObject *result = PyObject_CallFunctionObjArgs(decoder, value, level, b->list, NULL);
    Py_DECREF(level);
    if (budget_load(b) < 0) {
        Py_XDECREF(result);
        return NULL;
    }
    return result;
}

/* --------------------------------------------------------------------------------------------------
 * Scalars */

/* Non-ASCII S text (Python: `if not value.isascii(): _spend_text(value, budget)`): counted by its length,
 * and it must have a UTF-8 form. Returns 0 for valid text. */
static int
check_text(PyObject *text, Budget *b)
{
    Py_ssize_t size;
    if (PyUnicode_AsUTF8AndSize(text, &size) != NULL) {
        Py_ssize_t length = PyUnicode_GetLength(text);
        return size == length ? 0 : spend(b, length);
    }
    /* A lone surrogate (text that is not ASCII): Python counts the text first, then fails to encode it. */
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        return -1;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (spend(b, PyUnicode_GetLength(text)) < 0) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
        return -1;
    }
    PyErr_Restore(type, value, traceback);
    return -1;
}

/* _number(text): the cached Decimal, else _parse_number(text), which validates, parses and caches. */
static PyObject *
number(PyObject *text)
{
    PyObject *value = PyDict_GetItemWithError(NumberCache, text); /* borrowed */
    if (value != NULL) {
        Py_INCREF(value);
        return value;
    }
    if (PyErr_Occurred()) { /* unhashable */
        return NULL;
    }
    return PyObject_CallFunctionObjArgs(ParseNumber, text, NULL);
}

static PyObject *
decode_bool(PyObject *value)
{
    if (PyBool_Check(value)) {
        Py_INCREF(value);
        return value;
    }
    PyErr_SetNone(Invalid);
    return NULL;
}

static PyObject *
decode_null(PyObject *value)
{
    if (value == Py_True) {
        Py_RETURN_NONE;
    }
    PyErr_SetNone(Invalid);
    return NULL;
}

/* _decode_ss: a non-empty list of strings, counted when long, UTF-8, without repeats. */
static PyObject *
decode_ss(PyObject *value, Budget *b)
{
    if (!PyList_CheckExact(value) || PyList_Size(value) == 0) {
        PyErr_SetNone(Invalid);
        return NULL;
    }
    /* "".join(value): every element a str (subclasses too); its length is the sum of theirs. */
    Py_ssize_t count = PyList_Size(value), total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *element = PyList_GetItem(value, i);
        if (!PyUnicode_Check(element)) {
            PyErr_Format(PyExc_TypeError, "sequence item %zd: expected str instance", i);
            return NULL;
        }
        total += PyUnicode_GetLength(element);
    }
    if (total > Small && spend(b, total) < 0) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size;
        if (PyUnicode_AsUTF8AndSize(PyList_GetItem(value, i), &size) == NULL) {
            return NULL;
        }
    }
    PyObject *result = PySet_New(value);
    if (result == NULL) {
        return NULL;
    }
    if (PySet_Size(result) != PyList_Size(value)) {
        Py_DECREF(result);
        PyErr_SetNone(Invalid);
        return NULL;
    }
    return result;
}

/* _decode_ns: a non-empty list of number texts without repeats. Python first looks every text up in the
 * cache; only when one is missing does it read them all again with _number, in order. */
static PyObject *
decode_ns(PyObject *value, Budget *b)
{
    if (!PyList_CheckExact(value) || PyList_Size(value) == 0) {
        PyErr_SetNone(Invalid);
        return NULL;
    }
    if (PyList_Size(value) > Small && spend(b, PyList_Size(value)) < 0) {
        return NULL;
    }
    PyObject *result = PySet_New(NULL);
    if (result == NULL) {
        return NULL;
    }
    int missing = 0;
    for (Py_ssize_t i = 0; i < PyList_Size(value); i++) {
        PyObject *element = PyList_GetItem(value, i);
        Py_INCREF(element);
        PyObject *cached = PyDict_GetItemWithError(NumberCache, element); /* borrowed */
        Py_DECREF(element);
        if (cached == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            missing = 1;
        }
        else if (!missing && PySet_Add(result, cached) < 0) {
            goto error;
        }
    }
    if (missing) {
        if (PySet_Clear(result) < 0) {
            goto error;
        }
        for (Py_ssize_t i = 0; i < PyList_Size(value); i++) {
            PyObject *element = PyList_GetItem(value, i);
            Py_INCREF(element);
            PyObject *parsed = number(element);
            Py_DECREF(element);
            if (parsed == NULL) {
                goto error;
            }
            int added = PySet_Add(result, parsed);
            Py_DECREF(parsed);
            if (added < 0) {
                goto error;
            }
        }
    }
    if (PySet_Size(result) != PyList_Size(value)) {
        PyErr_SetNone(Invalid);
        goto error;
    }
    return result;
error:
    Py_DECREF(result);
    return NULL;
}

/* --------------------------------------------------------------------------------------------------
 * Tags and AttributeValues */

/* The kind of a tag that is an exact str: its text decides. */
static enum Kind
str_kind(PyObject *tag)
{
    if (tag == TagS) {
        return K_S;
    }
    if (tag == TagN) {
        return K_N;
    }
    Py_ssize_t length = PyUnicode_GetLength(tag);
    if (length < 1 || length > 4) {
        return K_UNKNOWN;
    }
    Py_UCS4 c[4] = {0, 0, 0, 0};
    for (Py_ssize_t i = 0; i < length; i++) {
        c[i] = PyUnicode_ReadChar(tag, i);
    }
    switch (length) {
    case 1:
        switch (c[0]) {
        case 'S': return K_S;
        case 'N': return K_N;
        case 'M': return K_M;
        case 'L': return K_L;
        case 'B': return K_B;
        default: return K_UNKNOWN;
        }
    case 2:
        if (c[1] != 'S') {
            return K_UNKNOWN;
        }
        switch (c[0]) {
        case 'S': return K_SS;
        case 'N': return K_NS;
        case 'B': return K_BS;
        default: return K_UNKNOWN;
        }
    case 4:
        if (c[0] == 'N' && c[1] == 'U' && c[2] == 'L' && c[3] == 'L') {
            return K_NULL;
        }
        if (c[0] == 'B' && c[1] == 'O' && c[2] == 'O' && c[3] == 'L') {
            return K_BOOL;
        }
        return K_UNKNOWN;
    default:
        return K_UNKNOWN;
    }
}

/* `tag == constant` in a condition, for a tag that is not an exact str (its __eq__ may be anything). */
static int
object_is(PyObject *tag, PyObject *constant)
{
    return PyObject_RichCompareBool(tag, constant, Py_EQ);
}

/* `(tag,) = av; value = av[tag]`: new references in *tag and *value. An exact dict whose one key is an
 * exact str is read directly; anything else goes through iteration and subscription as in Python. */
static int
unpack(PyObject *av, PyObject **tag, PyObject **value)
{
    if (PyDict_CheckExact(av)) {
        Py_ssize_t position = 0;
        PyObject *key, *item;
        if (PyDict_Size(av) != 1) {
            PyErr_SetString(PyExc_ValueError, "an AttributeValue has exactly one type key");
            return -1;
        }
        PyDict_Next(av, &position, &key, &item);
        if (PyUnicode_CheckExact(key)) {
            Py_INCREF(key);
            Py_INCREF(item);
            *tag = key;
            *value = item;
            return 0;
        }
    }
    PyObject *iterator = PyObject_GetIter(av);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *first = PyIter_Next(iterator);
    if (first == NULL) {
        Py_DECREF(iterator);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "not enough values to unpack (expected 1, got 0)");
        }
        return -1;
    }
    PyObject *extra = PyIter_Next(iterator);
    Py_DECREF(iterator);
    if (extra != NULL || PyErr_Occurred()) {
        Py_XDECREF(extra);
        Py_DECREF(first);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 1)");
        }
        return -1;
    }
    PyObject *item = PyObject_GetItem(av, first);
    if (item == NULL) {
        Py_DECREF(first);
        return -1;
    }
    *tag = first;
    *value = item;
    return 0;
}

static PyObject *decode_m(PyObject *value, Py_ssize_t depth, Budget *b);
static PyObject *decode_l(PyObject *value, Py_ssize_t depth, Budget *b);

/* `_DECODERS[tag](value, depth, budget)`: the C decoders for the tags done here, Python's for B and BS, a
 * KeyError for an unknown str, and the table itself for a tag that is not a str. */
static PyObject *
dispatch(enum Kind kind, PyObject *tag, PyObject *value, Py_ssize_t depth, Budget *b)
{
    switch (kind) {
    case K_M:
        return decode_m(value, depth, b);
    case K_L:
        return decode_l(value, depth, b);
    case K_SS:
        return decode_ss(value, b);
    case K_NS:
        return decode_ns(value, b);
    case K_BOOL:
        return decode_bool(value);
    case K_NULL:
        return decode_null(value);
    case K_B:
        return call_decoder(DecodeB, value, depth, b);
    case K_BS:
        return call_decoder(DecodeBS, value, depth, b);
    case K_OBJECT: {
        PyObject *decoder = PyObject_GetItem(Decoders, tag);
        if (decoder == NULL) {
            return NULL;
        }
        PyObject *result = call_decoder(decoder, value, depth, b);
        Py_DECREF(decoder);
        return result;
    }
    default: /* K_UNKNOWN, and S with a value that is not a str */
        PyErr_SetObject(PyExc_KeyError, tag);
        return NULL;
    }
}

/* The body of decode_pairs' loop: S (a str), N, M and L, else the table, compared in this order. */
static PyObject *
decode_pair_value(PyObject *av, Py_ssize_t depth, Budget *b)
{
    PyObject *tag, *value, *result = NULL;
    if (unpack(av, &tag, &value) < 0) {
        return NULL;
    }
    enum Kind kind;
    if (PyUnicode_CheckExact(tag)) {
        kind = str_kind(tag);
    }
    else {
        /* `tag == "S" and type(value) is str`, then "N", "M", "L", as Python compares them. */
        int is = object_is(tag, TagS);
        if (is > 0 && PyUnicode_CheckExact(value)) {
            kind = K_S;
        }
        else if (is < 0 || (is = object_is(tag, TagN)) != 0) {
            kind = K_N;
        }
        else if ((is = object_is(tag, TagM)) != 0) {
            kind = K_M;
        }
        else if ((is = object_is(tag, TagL)) != 0) {
            kind = K_L;
        }
        else {
            kind = K_OBJECT;
        }
        if (is < 0) {
            goto done;
        }
    }
    if (kind == K_S) {
        if (PyUnicode_CheckExact(value)) {
            if (check_text(value, b) == 0) {
                Py_INCREF(value);
                result = value;
            }
            goto done;
        }
        kind = K_UNKNOWN; /* _DECODERS["S"]: KeyError */
    }
    result = kind == K_N ? number(value) : dispatch(kind, tag, value, depth, b);
done:
    Py_DECREF(tag);
    Py_DECREF(value);
    return result;
}

/* _decode: S (a str, else refused), N, else the table. */
static PyObject *
decode_value(PyObject *av, Py_ssize_t depth, Budget *b)
{
    PyObject *tag, *value, *result = NULL;
    if (unpack(av, &tag, &value) < 0) {
        return NULL;
    }
    enum Kind kind;
    if (PyUnicode_CheckExact(tag)) {
        kind = str_kind(tag);
    }
    else {
        int is = object_is(tag, TagS);
        if (is != 0) {
            kind = K_S;
        }
        else if ((is = object_is(tag, TagN)) != 0) {
            kind = K_N;
        }
        else {
            kind = K_OBJECT;
        }
        if (is < 0) {
            goto done;
        }
    }
    if (kind == K_S) {
        if (!PyUnicode_CheckExact(value)) {
            PyErr_SetNone(Invalid);
        }
        else if (check_text(value, b) == 0) {
            Py_INCREF(value);
            result = value;
        }
    }
    else {
        result = kind == K_N ? number(value) : dispatch(kind, tag, value, depth, b);
    }
done:
    Py_DECREF(tag);
    Py_DECREF(value);
    return result;
}

/* The body of _decode_l's loop: M, S (a str), N, else the table, compared in this order. */
static PyObject *
decode_element(PyObject *av, Py_ssize_t depth, Budget *b)
{
    PyObject *tag, *value, *result = NULL;
    if (unpack(av, &tag, &value) < 0) {
        return NULL;
    }
    enum Kind kind;
    if (PyUnicode_CheckExact(tag)) {
        kind = str_kind(tag);
    }
    else {
        /* "M", then `tag == "S" and type(value) is str`, then "N", as Python compares them. */
        int is = object_is(tag, TagM);
        if (is != 0) {
            kind = K_M;
        }
        else if ((is = object_is(tag, TagS)) > 0 && PyUnicode_CheckExact(value)) {
            kind = K_S;
        }
        else if (is < 0 || (is = object_is(tag, TagN)) != 0) {
            kind = K_N;
        }
        else {
            kind = K_OBJECT;
        }
        if (is < 0) {
            goto done;
        }
    }
    if (kind == K_S) {
        if (PyUnicode_CheckExact(value)) {
            if (check_text(value, b) == 0) {
                Py_INCREF(value);
                result = value;
            }
            goto done;
        }
        kind = K_UNKNOWN;
    }
    result = kind == K_N ? number(value) : dispatch(kind, tag, value, depth, b);
done:
    Py_DECREF(tag);
    Py_DECREF(value);
    return result;
}

/* --------------------------------------------------------------------------------------------------
 * Maps and lists */

/* _decode_m: an M value at level `depth`. A dict's names are checked and counted, then its entries decoded
 * at depth + 1; any other mapping (or anything else) goes to Python's _decode_m. */
static PyObject *
decode_m(PyObject *value, Py_ssize_t depth, Budget *b)
{
    if (!PyDict_CheckExact(value)) {
        return call_decoder(DecodeMapping, value, depth, b);
    }
    int has_empty = PyDict_Contains(value, Empty);
    if (has_empty != 0) {
        if (has_empty > 0) {
            PyErr_SetNone(Invalid);
        }
        return NULL;
    }
    Py_ssize_t count = PyDict_Size(value);
    if (depth >= MaxDepth && count > 0) {
        PyErr_SetNone(Invalid);
        return NULL;
    }
    /* names = "".join(value): every name a str; counted by its length; then UTF-8 text. */
    Py_ssize_t position = 0, total = 0;
    PyObject *name, *item;
    int ascii = 1;
    while (PyDict_Next(value, &position, &name, &item)) {
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "attribute names are str");
            return NULL;
        }
        Py_ssize_t length = PyUnicode_GetLength(name);
        total += length;
        if (ascii) {
            Py_ssize_t size;
            if (PyUnicode_AsUTF8AndSize(name, &size) == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                    return NULL;
                }
                PyErr_Clear();
                ascii = -1; /* a lone surrogate: refused once the names are counted */
            }
            else if (size != length) {
                ascii = 0;
            }
        }
    }
    if (spend(b, total) < 0) {
        return NULL;
    }
    if (ascii < 0) {
        PyErr_SetNone(Invalid);
        return NULL;
    }
    if (!ascii) {
        position = 0;
        while (PyDict_Next(value, &position, &name, &item)) {
            Py_ssize_t size;
            if (PyUnicode_AsUTF8AndSize(name, &size) == NULL) {
                return NULL;
            }
        }
    }
    if (Py_EnterRecursiveCall(" while decoding an AttributeValue")) {
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) {
        goto error;
    }
    position = 0;
    while (PyDict_Next(value, &position, &name, &item)) {
        Py_INCREF(name);
        Py_INCREF(item);
        PyObject *decoded = decode_pair_value(item, depth + 1, b);
        Py_DECREF(item);
        if (decoded == NULL || PyDict_SetItem(out, name, decoded) < 0) {
            Py_XDECREF(decoded);
            Py_DECREF(name);
            goto error;
        }
        Py_DECREF(decoded);
        Py_DECREF(name);
        if (PyDict_Size(value) != count) { /* changed by Python code called meanwhile */
            PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
            goto error;
        }
    }
    Py_LeaveRecursiveCall();
    return out;
error:
    Py_LeaveRecursiveCall();
    Py_XDECREF(out);
    return NULL;
}

/* _decode_l: an L value at level `depth`: a list, counted by its length, its elements at depth + 1. */
static PyObject *
decode_l(PyObject *value, Py_ssize_t depth, Budget *b)
{
    if (!PyList_CheckExact(value)) {
        PyErr_SetNone(Invalid);
        return NULL;
    }
    Py_ssize_t count = PyList_Size(value);
    if ((depth >= MaxDepth && count > 0) || spend(b, count) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetNone(Invalid);
        }
        return NULL;
    }
    if (Py_EnterRecursiveCall(" while decoding an AttributeValue")) {
        return NULL;
    }
    PyObject *out = PyList_New(count);
    if (out == NULL) {
        goto error;
    }
    Py_ssize_t i = 0;
    /* As Python's list iterator: the length is read again at each step (Python code may run meanwhile). */
    for (; i < PyList_Size(value); i++) {
        PyObject *element = PyList_GetItem(value, i);
        Py_INCREF(element);
        PyObject *decoded = decode_element(element, depth + 1, b);
        Py_DECREF(element);
        if (decoded == NULL) {
            goto error;
        }
        if (i < count) {
            PyList_SetItem(out, i, decoded); /* steals */
        }
        else {
            int appended = PyList_Append(out, decoded);
            Py_DECREF(decoded);
            if (appended < 0) {
                goto error;
            }
        }
    }
    if (i < count && PyList_SetSlice(out, i, count, NULL) < 0) { /* the list shrank meanwhile */
        goto error;
    }
    Py_LeaveRecursiveCall();
    return out;
error:
    Py_LeaveRecursiveCall();
    Py_XDECREF(out);
    return NULL;
}

/* `for name, av in pairs`: new references in *name and *av. */
static int
unpack_pair(PyObject *pair, PyObject **name, PyObject **av)
{
    if (PyTuple_CheckExact(pair)) {
        if (PyTuple_Size(pair) != 2) {
            PyErr_SetString(PyExc_ValueError, "expected (name, AttributeValue) pairs");
            return -1;
        }
        *name = PyTuple_GetItem(pair, 0);
        *av = PyTuple_GetItem(pair, 1);
        Py_INCREF(*name);
        Py_INCREF(*av);
        return 0;
    }
    PyObject *iterator = PyObject_GetIter(pair);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *first = PyIter_Next(iterator), *second = NULL, *extra = NULL;
    if (first != NULL) {
        second = PyIter_Next(iterator);
        if (second != NULL) {
            extra = PyIter_Next(iterator);
        }
    }
    Py_DECREF(iterator);
    if (second == NULL || extra != NULL || PyErr_Occurred()) {
        Py_XDECREF(first);
        Py_XDECREF(second);
        Py_XDECREF(extra);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "expected (name, AttributeValue) pairs");
        }
        return -1;
    }
    *name = first;
    *av = second;
    return 0;
}

/* --------------------------------------------------------------------------------------------------
 * The module's functions */

static int
configured(void)
{
    if (Invalid == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "shardline._speedups is not configured");
        return 0;
    }
    return 1;
}

/* The (value, depth, budget) arguments of every decoder. */
static int
decoder_arguments(const char *name, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *depth, Budget *b)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes 3 arguments (value, depth, budget), %zd given", name, nargs);
        return -1;
    }
    if (!configured()) {
        return -1;
    }
    *depth = PyLong_AsSsize_t(args[1]);
    if (*depth == -1 && PyErr_Occurred()) {
        return -1;
    }
    b->list = args[2];
    return budget_load(b);
}

/* The result of a decoder, with the budget written back. */
static PyObject *
finish(PyObject *result, Budget *b)
{
    if (result == NULL) {
        budget_store_on_error(b);
        return NULL;
    }
    if (budget_store(b) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

static PyObject *
py_decode_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t depth;
    Budget b;
    if (decoder_arguments("decode_pairs", args, nargs, &depth, &b) < 0) {
        return NULL;
    }
    PyObject *iterator = PyObject_GetIter(args[0]);
    if (iterator == NULL) {
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) {
        Py_DECREF(iterator);
        return NULL;
    }
    PyObject *pair;
    while ((pair = PyIter_Next(iterator)) != NULL) {
        PyObject *name, *av;
        int unpacked = unpack_pair(pair, &name, &av);
        Py_DECREF(pair); /* lets dict.items() reuse its tuple */
        if (unpacked < 0) {
            goto error;
        }
        PyObject *decoded = decode_pair_value(av, depth, &b);
        Py_DECREF(av);
        if (decoded == NULL || PyDict_SetItem(out, name, decoded) < 0) {
            Py_XDECREF(decoded);
            Py_DECREF(name);
            goto error;
        }
        Py_DECREF(decoded);
        Py_DECREF(name);
    }
    if (PyErr_Occurred()) {
        goto error;
    }
    Py_DECREF(iterator);
    return finish(out, &b);
error:
    Py_DECREF(iterator);
    Py_DECREF(out);
    return finish(NULL, &b);
}

static PyObject *
py_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t depth;
    Budget b;
    if (decoder_arguments("decode", args, nargs, &depth, &b) < 0) {
        return NULL;
    }
    return finish(decode_value(args[0], depth, &b), &b);
}

#define DECODER(NAME, CALL)                                                                 \
    static PyObject *py_##NAME(PyObject *module, PyObject *const *args, Py_ssize_t nargs)  \
    {                                                                                       \
        Py_ssize_t depth;                                                                   \
        Budget b;                                                                           \
        if (decoder_arguments(#NAME, args, nargs, &depth, &b) < 0) {                        \
            return NULL;                                                                    \
        }                                                                                   \
        PyObject *value = args[0];                                                          \
        (void)depth;                                                                        \
        return finish(CALL, &b);                                                            \
    }

DECODER(decode_m, decode_m(value, depth, &b))
DECODER(decode_l, decode_l(value, depth, &b))
DECODER(decode_ss, decode_ss(value, &b))
DECODER(decode_ns, decode_ns(value, &b))
DECODER(decode_bool, decode_bool(value))
DECODER(decode_null, decode_null(value))

static PyObject *
py_number(PyObject *module, PyObject *text)
{
    if (!configured()) {
        return NULL;
    }
    return number(text);
}

static PyObject *
py_configure(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "invalid", "parse_number", "number_cache", "decode_b", "decode_bs", "decode_m", "decoders",
        "max_depth", "small", NULL,
    };
    PyObject *invalid, *parse_number, *number_cache, *decode_b, *decode_bs, *decode_mapping, *decoders;
    Py_ssize_t max_depth, small;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "$OOOOOOOnn:configure", keywords, &invalid, &parse_number,
                                     &number_cache, &decode_b, &decode_bs, &decode_mapping, &decoders,
                                     &max_depth, &small)) {
        return NULL;
    }
    if (!PyDict_CheckExact(number_cache)) {
        PyErr_SetString(PyExc_TypeError, "number_cache must be a dict");
        return NULL;
    }
    if (!PyType_Check(invalid) || !PyObject_IsSubclass(invalid, PyExc_Exception)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "invalid must be an exception class");
        }
        return NULL;
    }
#define KEEP(SLOT, VALUE)    \
    {                        \
        PyObject *old = SLOT; \
        Py_INCREF(VALUE);    \
        SLOT = VALUE;        \
        Py_XDECREF(old);     \
    }
    KEEP(ParseNumber, parse_number)
    KEEP(NumberCache, number_cache)
    KEEP(DecodeB, decode_b)
    KEEP(DecodeBS, decode_bs)
    KEEP(DecodeMapping, decode_mapping)
    KEEP(Decoders, decoders)
    KEEP(Invalid, invalid) /* last: configured() tests it */
#undef KEEP
    MaxDepth = max_depth;
    Small = small;
    Py_RETURN_NONE;
}

#define FASTCALL(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))py_configure, METH_VARARGS | METH_KEYWORDS,
     "configure(*, invalid, parse_number, number_cache, decode_b, decode_bs, decode_m, decoders, max_depth, "
     "small)\n--\n\nThe Python objects the decoders delegate to; called once by shardline._attributes."},
    {"decode_pairs", FASTCALL(py_decode_pairs), METH_FASTCALL,
     "decode_pairs(pairs, depth, budget)\n--\n\n_attributes.decode_pairs in C."},
    {"decode", FASTCALL(py_decode), METH_FASTCALL, "decode(av, depth, budget)\n--\n\n_attributes._decode in C."},
    {"number", py_number, METH_O, "number(text)\n--\n\n_attributes._number in C."},
    {"decode_m", FASTCALL(py_decode_m), METH_FASTCALL, "decode_m(value, depth, budget)\n--\n\n_decode_m in C."},
    {"decode_l", FASTCALL(py_decode_l), METH_FASTCALL, "decode_l(value, depth, budget)\n--\n\n_decode_l in C."},
    {"decode_ss", FASTCALL(py_decode_ss), METH_FASTCALL,
     "decode_ss(value, depth, budget)\n--\n\n_decode_ss in C."},
    {"decode_ns", FASTCALL(py_decode_ns), METH_FASTCALL,
     "decode_ns(value, depth, budget)\n--\n\n_decode_ns in C."},
    {"decode_bool", FASTCALL(py_decode_bool), METH_FASTCALL,
     "decode_bool(value, depth, budget)\n--\n\n_decode_bool in C."},
    {"decode_null", FASTCALL(py_decode_null), METH_FASTCALL,
     "decode_null(value, depth, budget)\n--\n\n_decode_null in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "shardline._speedups",
    "The C accelerator of shardline's AttributeValue decoder (see shardline._attributes).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (Empty == NULL) {
        Empty = PyUnicode_InternFromString("");
        TagS = PyUnicode_InternFromString("S");
        TagN = PyUnicode_InternFromString("N");
        TagM = PyUnicode_InternFromString("M");
        TagL = PyUnicode_InternFromString("L");
        if (Empty == NULL || TagS == NULL || TagN == NULL || TagM == NULL || TagL == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module_def);
}
