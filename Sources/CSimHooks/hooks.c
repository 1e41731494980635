#include "CSimHooks.h"
#include <pthread.h>
#include <stddef.h>

typedef void (__attribute__((swiftcall)) *enqueue_original_fn)(void *job);
typedef void (__attribute__((swiftcall)) *enqueue_hook_fn)(void *job, enqueue_original_fn original);

/// The Swift concurrency runtime's hook for enqueues on the global executor.
extern enqueue_hook_fn swift_task_enqueueGlobal_hook;

static _Thread_local void *thread_driver;
static moesim_redirect_fn installed_redirect;
static enqueue_hook_fn previous_hook;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static moesim_redirect_fn pending_redirect;

static void __attribute__((swiftcall)) redirecting_hook(void *job, enqueue_original_fn original) {
    void *driver = thread_driver;
    if (driver != NULL) {
        installed_redirect(driver, job);
    } else if (previous_hook != NULL) {
        previous_hook(job, original);
    } else {
        original(job);
    }
}

static void install(void) {
    installed_redirect = pending_redirect;
    previous_hook = __atomic_load_n(&swift_task_enqueueGlobal_hook, __ATOMIC_ACQUIRE);
    // Other threads may be enqueueing right now: publish the hook after its state.
    __atomic_store_n(&swift_task_enqueueGlobal_hook, redirecting_hook, __ATOMIC_RELEASE);
}

void moesim_install_global_enqueue_redirect(moesim_redirect_fn redirect) {
    pending_redirect = redirect;
    pthread_once(&install_once, install);
}

void *moesim_exchange_thread_driver(void *driver) {
    void *previous = thread_driver;
    thread_driver = driver;
    return previous;
}
