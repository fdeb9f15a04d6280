from __future__ import annotations

import sys
from pathlib import Path

# helpers (pcap_helpers.py, synth.py) are imported by plain name from this directory
sys.path.insert(0, str(Path(__file__).parent))
