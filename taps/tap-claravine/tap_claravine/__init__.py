"""tap-claravine: a Singer tap for the Claravine Data Standards Cloud API."""
