"""Audio front end: loading and validation (``io``), Table 2 features (``features``), the learned
encoder (``encoder``), the labelled clips and their sound -> scene pairing (``data``)."""
