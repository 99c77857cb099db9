"""`python -m windtunnel_dash simulate ...`"""

import sys

from .cli import main

sys.exit(main())
