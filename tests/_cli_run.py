"""The command line run in-process, as the CLI tests call it."""

import io

from skvae._cli import main


def run_cli(argv):
    """``python -m skvae ARGV`` in this process: (exit status, standard output, standard error).

    Arguments are passed through ``str`` so that tests may write numbers and
    paths as they are.
    """
    out, err = io.StringIO(), io.StringIO()
    status = main([str(arg) for arg in argv], out, err)
    return status, out.getvalue(), err.getvalue()
