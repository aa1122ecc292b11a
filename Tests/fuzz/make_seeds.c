/* Writes the fuzzers' seed corpus into DIR (Tests/fuzz/run.sh uses out/fuzz/seeds):
 *   DIR/create/   valid specs of every kind: dense (tied, regularized, k-sparse, denoising),
 *                 convolutional 2-D, 1-D and 3-D, U-Net and SegNet segmentation, VAE, a segmentation
 *                 model with a VAE branch, every optimizer, schedule, loss and activation
 *   DIR/load/     a model file of each spec: as created, and after a training step with its
 *                 optimizer state, input scaling and an anomaly threshold
 *   DIR/decompress/ files compressed by the codec model of codec_model.h (4 and 6 bits; the harness
 *                 uses the 6-bit one), of 0, 1 and 5 samples
 *   DIR/readers/  .npy files of every dtype and .csv files of every dialect, behind the byte that
 *                 selects the reader in FuzzReaders.swift
 * It aborts if the library refuses one of its own valid inputs, so it doubles as a check that the
 * seeds are valid. Built by Tests/fuzz/build.sh against the fuzzing build of the core. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autoencoders.h"
#include "codec_model.h"

static const char *dir;

static void check(ae_status status, const char *what, const char *name) {
    if (status != AE_OK) {
        fprintf(stderr, "make_seeds: %s (%s): %s: %s\n", what, name, ae_status_string(status), ae_last_error());
        exit(1);
    }
}

static void write_file(const char *sub, const char *name, const void *data, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) { perror(path); exit(1); }
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0) { perror(path); exit(1); }
}

static void save(const ae_model *model, const char *name, int optimizer) {
    void *data = NULL;
    size_t size = 0;
    check(ae_model_save_to_memory(model, optimizer, &data, &size), "save_to_memory", name);
    write_file("load", name, data, size);
    ae_free(data);
}

static const struct { const char *name; const char *spec; } specs[] = {
    {"dense", "{\"input_size\": 12, \"encoder\": [{\"type\": \"dense\", \"units\": 6, \"activation\": \"relu\"}, "
              "{\"type\": \"dense\", \"units\": 3, \"activation\": \"relu\"}], \"decoder\": [{\"type\": \"dense\", "
              "\"units\": 6, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 12, \"activation\": \"sigmoid\"}], "
              "\"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}, \"seed\": 7}"},
    {"tied", "{\"format\": \"autoencoders.spec\", \"version\": 1, \"name\": \"tied\", \"input_size\": 10, "
             "\"tied_weights\": true, \"encoder\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"sigmoid\"}], "
             "\"decoder\": [{\"type\": \"dense\", \"units\": 10, \"activation\": \"sigmoid\"}], \"loss\": \"mse\", "
             "\"regularization\": {\"weight_decay\": {\"lambda\": 0.0001, \"p\": 2, \"include_biases\": false}, "
             "\"sparsity\": {\"type\": \"kl\", \"target\": 0.05, \"weight\": 3.0}, \"contractive\": {\"weight\": 0.1}}, "
             "\"noise\": {\"type\": \"gaussian\", \"stddev\": 0.1, \"clip\": [0, 1]}, "
             "\"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1, \"momentum\": 0.9, \"nesterov\": true}, "
             "\"schedule\": {\"type\": \"step\", \"step_size\": 5, \"gamma\": 0.5, \"warmup_epochs\": 2}, \"init\": \"xavier_normal\"}"},
    {"ksparse", "{\"input_size\": 9, \"encoder\": [{\"type\": \"dense\", \"units\": 6, \"init\": \"he_normal\", "
                "\"weight_decay\": {\"lambda\": 0.001, \"p\": 1}}, {\"type\": \"k_sparse\", \"k\": 2}], "
                "\"decoder\": [{\"type\": \"dense\", \"units\": 9, \"bias\": false, \"init\": \"pytorch\"}], "
                "\"loss\": {\"type\": \"huber\", \"delta\": 0.5}, \"noise\": {\"type\": \"masking\", \"fraction\": 0.25}, "
                "\"optimizer\": {\"type\": \"rmsprop\", \"lr\": 0.01, \"alpha\": 0.9, \"momentum\": 0.5}, "
                "\"schedule\": {\"type\": \"cosine\", \"t_max\": 10, \"eta_min\": 0.0001}}"},
    {"activations", "{\"input_shape\": [8], \"encoder\": [{\"type\": \"dense\", \"units\": 6, \"activation\": "
                    "{\"type\": \"leaky_relu\", \"negative_slope\": 0.2}}, {\"type\": \"elu\", \"alpha\": 1}, "
                    "{\"type\": \"dense\", \"units\": 4, \"activation\": \"selu\"}, {\"type\": \"dropout\", \"rate\": 0.1}, "
                    "{\"type\": \"dense\", \"units\": 3, \"activation\": \"gelu\"}], \"decoder\": [{\"type\": \"dense\", "
                    "\"units\": 6, \"activation\": {\"type\": \"softplus\", \"beta\": 1, \"threshold\": 20}}, "
                    "{\"type\": \"activation\", \"function\": \"gelu_tanh\"}, {\"type\": \"dense\", \"units\": 8, "
                    "\"activation\": \"tanh\"}], \"loss\": {\"type\": \"correntropy\", \"sigma\": 1}, "
                    "\"regularization\": {\"sparsity\": {\"type\": \"l1\", \"weight\": 0.01}}, "
                    "\"noise\": {\"type\": \"salt_and_pepper\", \"fraction\": 0.1, \"low\": 0, \"high\": 1}, "
                    "\"optimizer\": {\"type\": \"adagrad\", \"lr\": 0.01, \"lr_decay\": 0.001, \"initial_accumulator_value\": 0.1}, "
                    "\"schedule\": {\"type\": \"exponential\", \"gamma\": 0.95}}"},
    {"batchnorm", "{\"input_size\": 8, \"encoder\": [{\"type\": \"dense\", \"units\": 6}, {\"type\": \"batch_norm\", "
                  "\"momentum\": 0.1, \"eps\": 0.00001}, {\"type\": \"relu\"}, {\"type\": \"dense\", \"units\": 2, "
                  "\"activation\": \"linear\"}], \"decoder\": [{\"type\": \"dense\", \"units\": 8}], "
                  "\"loss\": {\"type\": \"smooth_l1\", \"beta\": 1}, \"optimizer\": {\"type\": \"adamw\", \"lr\": 0.001, "
                  "\"betas\": [0.9, 0.99], \"eps\": 1e-7, \"weight_decay\": 0.01}}"},
    {"logits", "{\"input_size\": 6, \"encoder\": [{\"type\": \"dense\", \"units\": 2}], \"decoder\": [{\"type\": "
               "\"dense\", \"units\": 6}], \"loss\": \"bce_with_logits\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.05, "
               "\"weight_decay\": 0.001, \"momentum\": 0.5, \"dampening\": 0.1}, \"init\": \"zeros\"}"},
    {"conv2d", "{\"input_shape\": [1, 8, 8], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, "
               "\"padding\": 1, \"activation\": \"relu\"}, {\"type\": \"max_pool2d\", \"kernel\": 2}, {\"type\": \"conv2d\", "
               "\"filters\": 2, \"kernel\": 3, \"stride\": 2, \"padding\": 1, \"dilation\": 1}, {\"type\": \"flatten\"}, "
               "{\"type\": \"dense\", \"units\": 4}], \"decoder\": [{\"type\": \"dense\", \"units\": 8, \"activation\": "
               "\"relu\"}, {\"type\": \"reshape\", \"shape\": [2, 2, 2]}, {\"type\": \"upsample_nearest2d\", \"scale\": 2}, "
               "{\"type\": \"conv_transpose2d\", \"filters\": 1, \"kernel\": 3, \"stride\": 2, \"padding\": 1, "
               "\"output_padding\": 1, \"activation\": \"sigmoid\"}], \"loss\": \"bce\"}"},
    {"conv1d", "{\"input_shape\": [1, 16], \"encoder\": [{\"type\": \"conv1d\", \"filters\": 2, \"kernel\": 3, "
               "\"stride\": 2, \"padding\": 1, \"activation\": \"tanh\"}, {\"type\": \"avg_pool1d\", \"kernel\": 2}], "
               "\"decoder\": [{\"type\": \"conv_transpose1d\", \"filters\": 2, \"kernel\": 2, \"stride\": 2}, "
               "{\"type\": \"bed_of_nails1d\", \"scale\": 2}, {\"type\": \"conv1d\", \"filters\": 1, \"kernel\": 3, "
               "\"padding\": 1, \"dilation\": 1}], \"loss\": \"l1\"}"},
    {"pool1d", "{\"input_shape\": [2, 8], \"encoder\": [{\"type\": \"max_pool1d\", \"name\": \"p\", \"kernel\": 2}, "
               "{\"type\": \"conv1d\", \"filters\": 2, \"kernel\": 1}], \"decoder\": [{\"type\": \"max_unpool1d\", "
               "\"indices_from\": \"p\"}], \"loss\": \"mse\"}"},
    {"upsample1d", "{\"input_shape\": [1, 8], \"encoder\": [{\"type\": \"avg_pool1d\", \"kernel\": 2, \"stride\": 2}], "
                   "\"decoder\": [{\"type\": \"upsample_nearest1d\", \"scale\": 2}], \"loss\": \"mse\"}"},
    {"unet", "{\"input_shape\": [1, 8, 8], \"encoder\": [{\"type\": \"conv2d\", \"name\": \"enc1\", \"filters\": 2, "
             "\"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}, {\"type\": \"max_pool2d\", \"kernel\": 2}, "
             "{\"type\": \"conv2d\", \"name\": \"enc2\", \"filters\": 4, \"kernel\": 3, \"padding\": 1}, "
             "{\"type\": \"batch_norm\"}, {\"type\": \"relu\"}], \"decoder\": [{\"type\": \"conv_transpose2d\", "
             "\"name\": \"up1\", \"filters\": 2, \"kernel\": 2, \"stride\": 2}, {\"type\": \"concat\", \"inputs\": "
             "[\"up1\", \"enc1\"]}, {\"type\": \"conv2d\", \"filters\": 3, \"kernel\": 1}], \"loss\": {\"type\": "
             "\"cross_entropy\", \"ignore_index\": 255}}"},
    {"segnet", "{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, "
               "\"padding\": 1, \"activation\": \"relu\"}, {\"type\": \"max_pool2d\", \"name\": \"pool1\", \"kernel\": 2}], "
               "\"decoder\": [{\"type\": \"max_unpool2d\", \"indices_from\": \"pool1\"}, {\"type\": \"bed_of_nails2d\", "
               "\"scale\": 1}, {\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"padding\": 1}], \"loss\": \"cross_entropy\"}"},
    {"vae", "{\"input_size\": 12, \"encoder\": [{\"type\": \"dense\", \"units\": 6, \"activation\": \"relu\"}, "
            "{\"type\": \"variational\", \"units\": 2, \"beta\": 1, \"kl_warmup_epochs\": 2}], \"decoder\": [{\"type\": "
            "\"dense\", \"units\": 6, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 12, \"activation\": "
            "\"sigmoid\"}], \"loss\": \"bce\", \"seed\": 3}"},
    {"conv-vae", "{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 3, "
                 "\"stride\": 2, \"padding\": 1}, {\"type\": \"flatten\"}, {\"type\": \"variational\", \"units\": 2}], "
                 "\"decoder\": [{\"type\": \"dense\", \"units\": 16, \"activation\": \"sigmoid\"}, {\"type\": \"reshape\", "
                 "\"shape\": [1, 4, 4]}], \"loss\": \"mse\"}"},
    {"volume3d", "{\"input_shape\": [1, 4, 4, 4], \"encoder\": [{\"type\": \"conv3d\", \"name\": \"c1\", "
                 "\"filters\": 2, \"kernel\": 3, \"padding\": 1}, {\"type\": \"group_norm\", \"groups\": 2}, "
                 "{\"type\": \"relu\"}, {\"type\": \"conv3d\", \"name\": \"c2\", \"filters\": 2, \"kernel\": 3, "
                 "\"padding\": 1}, {\"type\": \"add\", \"inputs\": [\"c2\", \"c1\"]}, {\"type\": \"max_pool3d\", "
                 "\"kernel\": 2}], \"decoder\": [{\"type\": \"upsample_nearest3d\", \"scale\": 2}, "
                 "{\"type\": \"conv_transpose3d\", \"filters\": 1, \"kernel\": 3, \"padding\": 1, "
                 "\"activation\": \"sigmoid\"}], \"loss\": \"bce\", \"optimizer\": {\"type\": \"adam\", \"lr\": 0.001}}"},
    {"seg-vae-branch", "{\"input_shape\": [1, 4, 4], \"encoder\": [{\"type\": \"conv2d\", \"name\": \"enc1\", "
                       "\"filters\": 2, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"}, {\"type\": \"max_pool2d\", "
                       "\"name\": \"enc2\", \"kernel\": 2}], \"decoder\": [{\"type\": \"upsample_nearest2d\"}, "
                       "{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": 1}], \"loss\": \"cross_entropy\", "
                       "\"branches\": [{\"name\": \"vae\", \"weight\": 0.001, \"loss\": \"mse\", \"layers\": "
                       "[{\"type\": \"flatten\", \"inputs\": [\"enc2\"]}, {\"type\": \"variational\", \"units\": 2}, "
                       "{\"type\": \"dense\", \"units\": 16, \"activation\": \"sigmoid\"}, {\"type\": \"reshape\", "
                       "\"shape\": [1, 4, 4]}]}]}"},
};

/* .npy files: the 10-byte preamble of version 1.0 (or 12 bytes of 2.0), the dict, the data. */
static void npy(const char *name, int major, const char *descr, const char *shape, const void *data, size_t size) {
    unsigned char file[512];
    char header[256];
    int length = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t preamble = major == 1 ? 10 : 12;
    size_t padded = (preamble + (size_t)length + 1 + 63) / 64 * 64 - preamble;
    memcpy(file, "\x93NUMPY", 6);
    file[6] = (unsigned char)major;
    file[7] = 0;
    memset(file + 8, 0, preamble - 8);
    file[8] = (unsigned char)(padded & 0xff);
    file[9] = (unsigned char)(padded >> 8);
    memset(file + preamble, ' ', padded);
    memcpy(file + preamble, header, (size_t)length);
    file[preamble + padded - 1] = '\n';
    memcpy(file + preamble + padded, data, size);
    unsigned char seed[513];
    seed[0] = 0; /* FuzzReaders: .npy */
    memcpy(seed + 1, file, preamble + padded + size);
    write_file("readers", name, seed, 1 + preamble + padded + size);
}

static void csv(const char *name, char mode, char separator, const char *text) {
    char seed[512];
    size_t prefix = 0;
    seed[prefix++] = mode;
    if (mode == 2) seed[prefix++] = separator;
    size_t length = strlen(text);
    memcpy(seed + prefix, text, length);
    write_file("readers", name, seed, prefix + length);
}

static void readers(void) {
    float f4[6] = {0, 0.5f, 1, -2, 3.25f, 1e-3f};
    double f8[3] = {1.5, -0.25, 1e10};
    unsigned char u1[8] = {0, 1, 2, 127, 128, 200, 254, 255};
    int64_t i8[2] = {-3, 1LL << 40};
    unsigned char i8be[16] = {0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    uint16_t u2[4] = {1, 2, 3, 65535};
    int32_t i4[2] = {-100000, 100000};
    uint64_t u8[2] = {1, UINT64_MAX};
    npy("f4-2x3.npy", 1, "<f4", "(2, 3)", f4, sizeof f4);
    npy("f8-3.npy", 1, "<f8", "(3,)", f8, sizeof f8);
    npy("u1-2x2x2.npy", 1, "|u1", "(2, 2, 2)", u1, sizeof u1);
    npy("i1-8.npy", 2, "|i1", "(8,)", u1, sizeof u1);
    npy("b1-4.npy", 3, "|b1", "(4,)", u1 + 2, 4);
    npy("i8-2.npy", 1, "<i8", "(2,)", i8, sizeof i8);
    npy("i8be-2.npy", 1, ">i8", "(2,)", i8be, sizeof i8be);
    npy("u2-2x2.npy", 1, "=u2", "(2, 2)", u2, sizeof u2);
    npy("i4-1x2.npy", 1, "<i4", "(1, 2)", i4, sizeof i4);
    npy("u8-2.npy", 1, "<u8", "(2,)", u8, sizeof u8);
    npy("scalar.npy", 1, "<f4", "()", f4, 4);
    npy("empty.npy", 1, "<f4", "(0, 5)", f4, 0);
    csv("plain.csv", 1, 0, "1,2,3\n4,5,6\n");
    csv("header.csv", 1, 0, "\xEF\xBB\xBFx,y,\"z, quoted\"\r\n0.5,-1e-3,2.5E+2\r\n\r\n  7 , 8 ,9\r\n");
    csv("quoted.csv", 1, 0, "\"a\",\"b \"\"c\"\"\"\n\"1\",2\n3,\"4.0\"\n");
    csv("semicolon.csv", 1, 0, "1;2\n3;4\n");
    csv("tab.tsv", 1, 0, "1\t2\n\t3\t4\n");
    csv("special.csv", 1, 0, "nan,inf,-inf\n3.921568859368562698e-03,1.0000000000000000000001,0x1p3\n");
    csv("long.csv", 1, 0, "123456789012345678901234567890,1e38,3.4028235e38\n1e-45,-0.0,+5\n");
    csv("space-sep.csv", 2, ' ', "1 2 3\n4 5 6\n");
    csv("pipe-sep.csv", 2, '|', "a|b\n1|2\n");
    csv("ragged.csv", 1, 0, "1,2\n3\n");
}

/* Files compressed by the decompress harness's model. */
static void codec_seeds(void) {
    static const size_t counts[] = {0, 1, 5};
    for (int bits = 4; bits <= 6; bits += 2) {
        ae_model *model = codec_model(bits);
        if (!model) check(AE_ERR_INTERNAL, "codec_model", ae_last_error());
        float data[5 * CODEC_FEATURES];
        codec_data(data, 5);
        for (size_t c = 0; c < 3; c++) {
            void *bytes = NULL;
            size_t size = 0;
            char file[64];
            check(ae_model_compress(model, data, counts[c], counts[c] * CODEC_FEATURES, &bytes, &size), "compress", "codec");
            snprintf(file, sizeof file, "codec-%dbit-%zu.aec", bits, counts[c]);
            write_file("decompress", file, bytes, size);
            ae_free(bytes);
        }
        ae_model_free(model);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { perror(dir); return 1; }
    ae_set_num_threads(1);
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        const char *name = specs[s].name;
        char file[256];
        snprintf(file, sizeof file, "%s.json", name);
        write_file("create", file, specs[s].spec, strlen(specs[s].spec));

        ae_model *model = NULL;
        check(ae_model_create(specs[s].spec, &model), "create", name);
        snprintf(file, sizeof file, "%s.aem", name);
        save(model, file, 0);

        /* Trained: one step on a 2-sample batch (optimizer state), input scaling, a threshold. */
        size_t features = 0, classes = 0, labels = 0;
        check(ae_model_input_size(model, &features), "input_size", name);
        check(ae_model_class_count(model, &classes), "class_count", name);
        check(ae_model_label_size(model, &labels), "label_size", name);
        float *batch = malloc(2 * features * sizeof(float)), *offset = malloc(features * sizeof(float)),
              *scale = malloc(features * sizeof(float));
        int32_t *targets = calloc(2 * labels + 1, sizeof(int32_t));
        /* In [0.25, 0.65]: after the scaling below still in [0, 1], as BCE targets must be. */
        for (size_t i = 0; i < 2 * features; i++) batch[i] = 0.25f + 0.1f * (float)(i % 5);
        for (size_t i = 0; i < features; i++) {
            offset[i] = 0.1f * (float)(i % 3);
            scale[i] = 1.0f + 0.5f * (float)(i % 2);
        }
        for (size_t i = 0; i < 2 * labels; i++) targets[i] = (int32_t)(i % classes + (classes ? 0 : 0));
        check(ae_model_set_input_scaling(model, offset, scale, features), "set_input_scaling", name);
        ae_trainer *trainer = NULL;
        double loss = 0;
        check(ae_trainer_create(model, 2, &trainer), "trainer_create", name);
        if (classes > 0) {
            check(ae_trainer_step_labels(trainer, batch, targets, 2, 2 * features, 2 * labels, &loss), "step_labels", name);
        } else {
            check(ae_trainer_step(trainer, batch, 2, 2 * features, &loss), "step", name);
            check(ae_model_set_threshold(model, 0.125f), "set_threshold", name);
        }
        ae_trainer_free(trainer);
        int decodes = 0;
        check(ae_model_can_decode(model, &decodes), "can_decode", name);
        if (classes == 0 && decodes && ae_model_fit_quantizer(model, batch, 2, 2 * features, 4 + (int)(s % 5)) == AE_OK) {
            snprintf(file, sizeof file, "%s-quantized.aem", name);
            save(model, file, 0);
            check(ae_model_remove_quantizer(model), "remove_quantizer", name);
        }
        snprintf(file, sizeof file, "%s-trained.aem", name);
        save(model, file, 1);
        snprintf(file, sizeof file, "%s-trained-noopt.aem", name);
        save(model, file, 0);
        free(batch);
        free(offset);
        free(scale);
        free(targets);
        ae_model_free(model);
    }
    readers();
    codec_seeds();
    return 0;
}
