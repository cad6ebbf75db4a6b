"""tap-new: a throwaway vendor's list items."""
