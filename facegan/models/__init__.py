"""One module per paper's networks; models know nothing about files, UI or datasets."""
