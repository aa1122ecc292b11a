/* unload.c: a host that dlopens the library, uses it from threads and dlcloses it survives.
 *
 * A thread fails a call (so it holds a thread-local error message), the main thread dlcloses the
 * library while that thread still runs, then the thread exits and its message is destroyed: that
 * must not call into unmapped library code. Then the library is opened and used again.
 *
 * Usage: unload path/to/libautoencoders.so
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

typedef int (*set_threads_fn)(int);
typedef const char *(*last_error_fn)(void);

static void *library;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int failed_call = 0, closed = 0, worker_ok = 0;

static void *worker(void *argument) {
    set_threads_fn set_threads = (set_threads_fn)(size_t)dlsym(library, "ae_set_num_threads");
    last_error_fn last_error = (last_error_fn)(size_t)dlsym(library, "ae_last_error");
    (void)argument;
    worker_ok = set_threads && last_error && set_threads(0) == AE_ERR_INVALID_ARGUMENT &&
                strstr(last_error(), "ae_set_num_threads") != NULL;
    pthread_mutex_lock(&mutex);
    failed_call = 1;
    pthread_cond_broadcast(&changed);
    while (!closed) pthread_cond_wait(&changed, &mutex);
    pthread_mutex_unlock(&mutex);
    return NULL; /* the thread-local message is destroyed now, after dlclose */
}

int main(int argc, char **argv) {
    pthread_t thread;
    if (argc < 2) return 2;
    library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CHECK(library != NULL);
    if (!library) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return check_summary("unload");
    }
    CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
    pthread_mutex_lock(&mutex);
    while (!failed_call) pthread_cond_wait(&changed, &mutex);
    pthread_mutex_unlock(&mutex);
    CHECK(dlclose(library) == 0);
    pthread_mutex_lock(&mutex);
    closed = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mutex);
    pthread_join(thread, NULL);
    CHECK(worker_ok);

    /* Open and use it again. */
    library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CHECK(library != NULL);
    if (library) {
        set_threads_fn set_threads = (set_threads_fn)(size_t)dlsym(library, "ae_set_num_threads");
        CHECK(set_threads && set_threads(1) == AE_OK && set_threads(0) == AE_ERR_INVALID_ARGUMENT);
        CHECK(dlclose(library) == 0);
    }
    return check_summary("unload");
}
