"""A corpus of correct and buggy Data2Vec pipelines, and what ``probe()`` says of each (issue 10)."""
