"""toipkit: IP telephony courseware on XiVO/Asterisk.

Subpackages mirror the labs: ``dialplan``, ``pcap``, ``xivo``, ``tts``, ``grading``,
plus ``course`` (notebook tooling), ``checks`` (exercise verdicts) and ``cli``.
"""

__version__ = "0.1.0"
