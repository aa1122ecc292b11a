/* Models in the C tests: creating one under CHECK_OK, and its parameters, to compare models bit
 * for bit. Include after check.h. */
#ifndef AE_TESTS_MODELS_H
#define AE_TESTS_MODELS_H

#include <stdlib.h>
#include <string.h>

#include "autoencoders.h"
#include "check.h"

/* A model of `spec`, or NULL (a failed check) when the library refuses it. */
static inline ae_model *create(const char *spec) {
    ae_model *model = NULL;
    CHECK_OK(ae_model_create(spec, &model));
    return model;
}

/* A copy of every parameter, in tensor order, and their number in *total; NULL when a call
 * fails. Caller frees. */
static inline float *parameters_copy(const ae_model *model, size_t *total) {
    size_t count = 0, tensors = 0, i, offset = 0;
    float *values;
    if (ae_model_parameter_count(model, &count) != AE_OK || ae_model_tensor_count(model, &tensors) != AE_OK) return NULL;
    values = (float *)malloc(count * sizeof(float));
    for (i = 0; values && i < tensors; i++) {
        const char *name = NULL;
        size_t n = 0;
        if (ae_model_tensor_info(model, i, &name, NULL, 0, NULL, &n) != AE_OK ||
            ae_model_get_parameter(model, name, values + offset, n) != AE_OK) {
            free(values);
            return NULL;
        }
        offset += n;
    }
    *total = offset;
    return values;
}

/* Whether two models hold the same parameters, bit for bit. */
static inline int same_parameters(const ae_model *a, const ae_model *b) {
    size_t na = 0, nb = 0;
    float *pa = parameters_copy(a, &na), *pb = parameters_copy(b, &nb);
    int same = pa && pb && na == nb && memcmp(pa, pb, na * sizeof(float)) == 0;
    free(pa);
    free(pb);
    return same;
}

#endif
