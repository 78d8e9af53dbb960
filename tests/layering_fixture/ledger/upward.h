// Fixture for the layering check's own test: this include must be reported.
#include "jobledger/projection.h"
