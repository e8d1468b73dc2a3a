"""Reading the year's inputs: listing and settling them, the package scan, grid reading, cell typing,
value parsing, extraction into typed frames."""
