"""lpn's builtin export beside tfmot QAT + TFLiteConverter on the same float model (issue 5's anchor)."""

from __future__ import annotations

import pytest

from lpn_tf import anchor, data, models, train


@pytest.mark.slow
def test_lpn_builtin_export_matches_the_converter_anchor() -> None:
    split = data.digits()
    x, y, x_te, y_te = split
    float_model = train.train_float(models.digits_cnn(), x, y, epochs=30)
    float_top1 = train.top1(float_model, x_te, y_te)
    rows = anchor.compare_with_converter(float_model, split, epochs=3)
    print("\n" + anchor.to_markdown(rows) + f"\nfloat top-1 {float_top1:.2f} %")
    tfmot_row, lpn_row = rows
    # same network, same int8 filters; lpn lowers GlobalAveragePooling (4×4×32) to an exact depthwise
    # conv with a ones filter (docs/integer-spec.md §7), which adds 4·4·32 bytes
    assert lpn_row.weight_bytes == tfmot_row.weight_bytes + 4 * 4 * 32
    assert lpn_row.file_bytes <= 1.25 * tfmot_row.file_bytes
    # both are real int8 classifiers; lpn's is not worse than the anchor by more than noise
    assert tfmot_row.top1 > 80 and lpn_row.top1 > 80
    assert lpn_row.top1 >= tfmot_row.top1 - 2.0
