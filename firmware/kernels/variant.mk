# The kernel variant of a build, shared by firmware/kernels.mk (int8 builtins) and kernels/lpn_ops.mk (LPN
# custom ops). Include after setting ROOT.
#   LPN_KERNELS=ref       portable C99 reference kernels of firmware/kernels/ (default)
#   LPN_KERNELS=cortex-m  the same, with the files of firmware/kernels/cortex-m/ replacing their same-named
#                         reference files (Armv7E-M / Armv8-M Mainline DSP: M4, M7, M33)
#   $(call lpn_variant_files,NAMES,CM_NAMES)  the source of each kernel name in NAMES in the selected variant
#                                            (CM_NAMES: the names with an optimized file)

LPN_KERNEL_DIR := $(ROOT)/firmware/kernels
LPN_KERNELS ?= ref
ifneq ($(words $(LPN_KERNELS)) $(words $(filter ref cortex-m,$(LPN_KERNELS))),1 1)
$(error unknown LPN_KERNELS '$(LPN_KERNELS)': use ref or cortex-m)
endif

lpn_variant_files = $(foreach k,$(1),$(LPN_KERNEL_DIR)/$(if $(and $(filter cortex-m,$(LPN_KERNELS)),\
	$(filter $(k),$(2))),cortex-m/)$(k).c)
