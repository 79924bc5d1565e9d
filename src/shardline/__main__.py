"""`python -m shardline`: the command line."""

if __name__ == "__main__":
    from shardline.cli import main

    main()
