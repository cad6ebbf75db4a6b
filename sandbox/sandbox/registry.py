"""Every simulator the sandbox mounts (one module per vendor)."""

from sandbox.consentmanager import ConsentmanagerApp

APPS = [ConsentmanagerApp]
