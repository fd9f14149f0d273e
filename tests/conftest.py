"""Suite-wide fixtures: the emulator's pytest plugin (in-process and loopback emulators)."""

pytest_plugins = ["cf_core.local.pytest_plugin"]
