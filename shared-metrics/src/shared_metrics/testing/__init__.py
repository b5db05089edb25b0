"""Local stand-ins for AWS used by tests and local runs: an emulator on loopback and a
fault-injecting proxy in front of it. Real HTTP on 127.0.0.1, never a patched function."""
