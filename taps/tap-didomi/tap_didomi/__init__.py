"""tap-didomi: a Singer tap for Didomi (Platform API and bucket exports)."""
