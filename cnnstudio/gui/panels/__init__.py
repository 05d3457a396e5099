"""One dock panel per module. Each panel reads from and writes to plain data, never Keras."""
