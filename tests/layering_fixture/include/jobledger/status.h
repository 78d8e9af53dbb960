// Fixture for the layering check's own test: a public header including a private one.
#include "ledger/wire.h"
