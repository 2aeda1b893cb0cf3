"""``python -m comparisons.labs list | copy NAME [DEST]``: the lab's skeletons, and a copy of one to
fill in (then ``refnn-compare check NAME``)."""

from __future__ import annotations

import argparse
import sys

from comparisons.labs import FILES, copy_skeleton, skeleton_path


def main(argv=None) -> int:
    """List the skeletons or copy one; returns the exit status (2 for a usage error)."""
    parser = argparse.ArgumentParser(prog="python -m comparisons.labs", description="The lab kit's skeletons.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the skeletons and where they are")
    copy = sub.add_parser("copy", help="copy a skeleton to fill in")
    copy.add_argument("name", help=f"one of {', '.join(FILES)}")
    copy.add_argument("destination", nargs="?", default=".", help="a folder or a file name (default: here)")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in FILES:
            print(skeleton_path(name))
        return 0
    try:
        target = copy_skeleton(args.name, args.destination)
    except (ValueError, FileExistsError) as exc:
        sys.stderr.write(f"python -m comparisons.labs copy: {exc}\n")
        return 2
    except OSError as exc:  # a missing folder, no permission, ...
        sys.stderr.write(f"python -m comparisons.labs copy: cannot copy {args.name} to {args.destination!r}: "
                         f"{exc.strerror or exc}\n")
        return 2
    print(f"{target}: fill in the TODOs, then run  refnn-compare check {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
