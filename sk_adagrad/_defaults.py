"""Default hyperparameters shared by both estimators.

Each value was chosen from measurements on sparse text; docs/defaults.md holds
the tables that justify them and says where they differ from torch's.
"""

LR = 0.1
ALPHA = 1e-5
INITIAL_ACCUMULATOR_VALUE = 0.0
BATCH_SIZE = 256
MAX_ITER = 100
