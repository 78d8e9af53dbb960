// The annotated mutexes (jobledger/thread_annotations.h) under the names the ledger's
// internals use.

#ifndef JOBLEDGER_LEDGER_INTERNAL_MUTEX_H_
#define JOBLEDGER_LEDGER_INTERNAL_MUTEX_H_

#include "jobledger/thread_annotations.h"

namespace jobledger::internal {

using ::jobledger::Lock;
using ::jobledger::Mutex;
using ::jobledger::MutexLock;
using ::jobledger::ReaderLock;
using ::jobledger::SharedMutex;
using ::jobledger::WriterLock;

}  // namespace jobledger::internal

#endif  // JOBLEDGER_LEDGER_INTERNAL_MUTEX_H_
