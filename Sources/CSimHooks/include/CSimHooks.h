#ifndef MOESIM_CSIMHOOKS_H
#define MOESIM_CSIMHOOKS_H

/// Called with the driving executor (opaque) and a job the runtime sent to the global executor.
typedef void (*moesim_redirect_fn)(void *_Nonnull driver, void *_Nonnull job);

/// Installs, once per process, the runtime hook that hands global-executor jobs enqueued on a driving thread
/// to `redirect`. Later calls keep the first function.
void moesim_install_global_enqueue_redirect(moesim_redirect_fn _Nonnull redirect);

/// Marks the calling thread as driving `driver` (NULL: no longer driving); returns the previous marking.
void *_Nullable moesim_exchange_thread_driver(void *_Nullable driver);

#endif
