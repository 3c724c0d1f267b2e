"""Default hyperparameters shared by both estimators.

Each value was chosen from measurements on sparse text (tf-idf uni+bigrams of
the 55-class docstring corpus); docs/defaults.md holds the tables that justify
them and says where they differ from torch's and scikit-learn's.
"""

LR = 0.3
ALPHA = 3e-6
INITIAL_ACCUMULATOR_VALUE = 0.0
BATCH_SIZE = 1024
MAX_ITER = 100
N_ITER_NO_CHANGE = 2
