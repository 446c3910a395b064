/* The OpenBLAS core rule (openblas_core.h): override only a core below the CPU's ISA. */
#include "openblas_core.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(const char *auto_core, int cpu_class, int amd, const char *want) {
    const char *got = kl_openblas_core_for(auto_core, cpu_class, amd);
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
        printf("FAIL: auto %s, cpu class %d, amd %d: got %s, want %s\n", auto_core ? auto_core : "(null)",
               cpu_class, amd, got ? got : "(keep)", want ? want : "(keep)");
        failures++;
    }
}

int main(void) {
    /* Xeon family 6 model 207 under 0.3.21: auto picks Prescott, AVX-512 present */
    expect("Prescott", 3, 0, "SkylakeX");
    /* Zen 4 under 0.3.21: Cooperlake (AVX-512 + bf16) is kept; so is SkylakeX */
    expect("Cooperlake", 3, 1, NULL);
    expect("SkylakeX", 3, 0, NULL);
    expect("skylakex", 3, 0, NULL); /* case-insensitive */
    /* Zen 5 if a build maps it to Zen (AVX2 kernels) while the CPU has AVX-512 */
    expect("Zen", 3, 1, "SkylakeX");
    /* Zen 3 (AVX2 only): Zen kept; a fallback gets Zen on AMD, Haswell elsewhere */
    expect("Zen", 2, 1, NULL);
    expect("Prescott", 2, 1, "Zen");
    expect("Sandybridge", 2, 0, "Haswell");
    expect("Haswell", 2, 0, NULL);
    /* a failed probe counts as the lowest core */
    expect("", 3, 0, "SkylakeX");
    expect(NULL, 2, 0, "Haswell");
    /* no AVX2: leave the choice to OpenBLAS */
    expect("Prescott", 1, 0, NULL);
    expect("Prescott", 0, 0, NULL);
    if (kl_openblas_core_class("SapphireRapids") != 3 || kl_openblas_core_class("Excavator") != 1 ||
        kl_openblas_core_class("Nehalem") != 0) {
        printf("FAIL: core classes\n");
        failures++;
    }
    int c = kl_openblas_cpu_class();
    if (c < 0 || c > 3) {
        printf("FAIL: cpu class %d out of range\n", c);
        failures++;
    }
    printf("%s (this CPU: class %d, %s)\n", failures ? "FAILED" : "ok", c,
           kl_openblas_cpu_is_amd() ? "AMD" : "not AMD");
    return failures != 0;
}
