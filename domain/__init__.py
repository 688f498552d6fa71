"""The domain of iscflow: pure rules, no I/O, time passed in as an argument."""
