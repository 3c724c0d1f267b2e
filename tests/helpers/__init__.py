"""What the tests share that is not a test: models fitted for them, fault
injection, and the code blocks of the documentation."""
