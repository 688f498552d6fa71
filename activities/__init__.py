"""Activities: the only code that performs I/O on behalf of workflows."""
