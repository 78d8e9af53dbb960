// Fixture for the layering check's own test: a public header nobody listed.
