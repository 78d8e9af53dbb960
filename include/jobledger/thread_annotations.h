// Mutexes whose lock contracts Clang checks (-Wthread-safety), after abseil's
// absl/base/thread_annotations.h and absl::Mutex: members say which mutex guards them
// (JOBLEDGER_GUARDED_BY), functions which mutex they need held (JOBLEDGER_REQUIRES) or
// must not hold (JOBLEDGER_EXCLUDES). Other compilers ignore the annotations. Public,
// because public classes (ProjectionManager, AdvanceScheduler) hold such mutexes; the
// project's own code is built with -Wthread-safety under Clang.

#ifndef JOBLEDGER_THREAD_ANNOTATIONS_H_
#define JOBLEDGER_THREAD_ANNOTATIONS_H_

#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define JOBLEDGER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define JOBLEDGER_THREAD_ANNOTATION(x)
#endif

#define JOBLEDGER_CAPABILITY(x) JOBLEDGER_THREAD_ANNOTATION(capability(x))
#define JOBLEDGER_SCOPED_CAPABILITY JOBLEDGER_THREAD_ANNOTATION(scoped_lockable)
#define JOBLEDGER_GUARDED_BY(x) JOBLEDGER_THREAD_ANNOTATION(guarded_by(x))
#define JOBLEDGER_PT_GUARDED_BY(x) JOBLEDGER_THREAD_ANNOTATION(pt_guarded_by(x))
#define JOBLEDGER_REQUIRES(...) JOBLEDGER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define JOBLEDGER_REQUIRES_SHARED(...) \
  JOBLEDGER_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define JOBLEDGER_ACQUIRE(...) JOBLEDGER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define JOBLEDGER_ACQUIRE_SHARED(...) \
  JOBLEDGER_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define JOBLEDGER_RELEASE(...) JOBLEDGER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define JOBLEDGER_RELEASE_SHARED(...) \
  JOBLEDGER_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define JOBLEDGER_RELEASE_GENERIC(...) \
  JOBLEDGER_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define JOBLEDGER_EXCLUDES(...) JOBLEDGER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define JOBLEDGER_NO_THREAD_SAFETY_ANALYSIS JOBLEDGER_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace jobledger {

// std::mutex with annotations. BasicLockable, so std::condition_variable_any waits on
// it directly (the waiting thread holds it before and after, as the analysis assumes).
class JOBLEDGER_CAPABILITY("mutex") Mutex {
 public:
  void lock() JOBLEDGER_ACQUIRE() { mu_.lock(); }
  void unlock() JOBLEDGER_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// std::shared_mutex with annotations.
class JOBLEDGER_CAPABILITY("mutex") SharedMutex {
 public:
  void lock() JOBLEDGER_ACQUIRE() { mu_.lock(); }
  void unlock() JOBLEDGER_RELEASE() { mu_.unlock(); }
  void lock_shared() JOBLEDGER_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() JOBLEDGER_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex (or a SharedMutex exclusively) for its scope.
template <typename M>
class JOBLEDGER_SCOPED_CAPABILITY Lock {
 public:
  explicit Lock(M* mu) JOBLEDGER_ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~Lock() JOBLEDGER_RELEASE() { mu_->unlock(); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  M* mu_;
};
using MutexLock = Lock<Mutex>;
using WriterLock = Lock<SharedMutex>;

// Holds a SharedMutex shared for its scope.
class JOBLEDGER_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex* mu) JOBLEDGER_ACQUIRE_SHARED(mu) : mu_(mu) { mu_->lock_shared(); }
  ~ReaderLock() JOBLEDGER_RELEASE() { mu_->unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex* mu_;
};

}  // namespace jobledger

#endif  // JOBLEDGER_THREAD_ANNOTATIONS_H_
