"""``python -m generator``: the same as the ``piccolo-gen`` command."""

from generator.cli import main

raise SystemExit(main())
