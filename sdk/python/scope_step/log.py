"""Log lines, shown live by the host and kept in the run record (secrets the
host knows are redacted). `print` works too, but lands in the step's captured
stdout rather than the log."""

from wit_world.imports.log import Level, write


def debug(message: str) -> None:
    write(Level.DEBUG, str(message))


def info(message: str) -> None:
    write(Level.INFO, str(message))


def warn(message: str) -> None:
    write(Level.WARN, str(message))


def error(message: str) -> None:
    write(Level.ERROR, str(message))
