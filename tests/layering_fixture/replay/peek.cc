// Fixture for the layering check's own test: another component's internal/ header.
#include "ledger/internal/codec.h"
