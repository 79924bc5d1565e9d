"""The tokenizer of DynamoDB's expression language, and its syntax error messages.

DynamoDB's lexer (as its error messages show) knows these tokens: a name (`[A-Za-z][A-Za-z0-9_]*`, the
developer guide's "Specifying item attributes": the first character a letter), an ExpressionAttributeNames
placeholder (`#` and one or more of `[A-Za-z0-9_]`), an ExpressionAttributeValues placeholder (`:` and the
same), an unsigned integer (list indexes), the operators `= <> < <= > >= + -` and the punctuation
`( ) [ ] . ,`. Anything else (`!`, `$`, `"`, a lone `#` or `:`, `_` at the start of a name) is a
one-character token that no rule accepts, so it is reported as the token of a syntax error.

A syntax error names the offending token and the source text "near" it: from the start of the token before it
to the end of the token after it, as DynamoDB prints them (observed messages: `token: ":", near: "hits :
incr"` for `ADD hits : incr`; `token: "INVALID", near: "INVALID SYNTAX"`; `token: "!", near: "!!"`;
`token: "<EOF>", near: ","` for the projection `a,`; `token: "_", near: "SET _123"`).

Examples:
    >>> [t.text for t in tokenize("SET #a[0] = :v + b")]
    ['SET', '#a', '[', '0', ']', '=', ':v', '+', 'b', '']
"""

from __future__ import annotations

from typing import Final, NamedTuple, final

__all__ = ["Token", "syntax_error_message", "tokenize"]

#: Token kinds.
NAME: Final = "name"
NAME_REF: Final = "#"
VALUE_REF: Final = ":"
NUMBER: Final = "number"
OPERATOR: Final = "operator"
PUNCT: Final = "punct"
UNKNOWN: Final = "unknown"
EOF: Final = "eof"

_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS: Final = frozenset("0123456789")
_WORD: Final = _LETTERS | _DIGITS | {"_"}
_WHITESPACE: Final = frozenset(" \t\r\n")
_PUNCT: Final = frozenset("()[].,")


@final
class Token(NamedTuple):
    """One token: its kind, its text as written, and where it is in the source (`end` excluded)."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(source: str) -> list[Token]:
    """The tokens of `source`, ending with an EOF token (empty text, at the end of the source).

    Never fails: characters no rule knows become one-character UNKNOWN tokens, which the parser reports.
    """
    tokens: list[Token] = []
    append = tokens.append
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char in _WHITESPACE:
            index += 1
            continue
        start = index
        if char in _LETTERS:
            index += 1
            while index < length and source[index] in _WORD:
                index += 1
            append(Token(NAME, source[start:index], start, index))
        elif char in _DIGITS:
            index += 1
            while index < length and source[index] in _DIGITS:
                index += 1
            append(Token(NUMBER, source[start:index], start, index))
        elif char in "#:":
            index += 1
            while index < length and source[index] in _WORD:
                index += 1
            kind = (NAME_REF if char == "#" else VALUE_REF) if index > start + 1 else UNKNOWN
            append(Token(kind, source[start:index], start, index))
        elif char == "<":
            index += 2 if source[index + 1 : index + 2] in ("=", ">") else 1
            append(Token(OPERATOR, source[start:index], start, index))
        elif char == ">":
            index += 2 if source[index + 1 : index + 2] == "=" else 1
            append(Token(OPERATOR, source[start:index], start, index))
        elif char in "=+-":
            index += 1
            append(Token(OPERATOR, char, start, index))
        elif char in _PUNCT:
            index += 1
            append(Token(PUNCT, char, start, index))
        else:
            index += 1
            append(Token(UNKNOWN, char, start, index))
    append(Token(EOF, "", length, length))
    return tokens


def syntax_error_message(kind: str, source: str, tokens: list[Token], position: int) -> str:
    """DynamoDB's message for a syntax error at `tokens[position]` in the expression parameter `kind`."""
    token = tokens[position]
    begin = tokens[position - 1].start if position > 0 else token.start
    if token.kind == EOF:
        shown = "<EOF>"
        end = len(source)
    else:
        shown = token.text
        following = tokens[position + 1]
        end = token.end if following.kind == EOF else following.end
    return f'Invalid {kind}: Syntax error; token: "{shown}", near: "{source[begin:end]}"'
