#!/usr/bin/env bash
# Rebuilds the datasets nnrepl ships from Debian packages.
#
#   datasets/build.sh            rebuild every file in datasets/ (and checksums.sha256)
#   datasets/build.sh --check    rebuild into a temporary directory and compare it,
#                                byte for byte, with the files in datasets/
#
# The output is deterministic: fixed row order, no timestamps or names inside the
# gzip streams (gzip -n), C locale for number formatting. Rebuilding on a Debian 12
# machine gives byte-identical files. See datasets/README.md for what each file is.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

pima_arff=/usr/share/doc/weka/examples/diabetes.arff
digits_csv=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
fmnist_dir=/usr/share/datasets/fashion-mnist

# Files we build, relative to the output directory, in checksum order.
built_files=(
    diabetes.csv.gz
    digits.csv.gz
    fashion-mnist/train-images-idx3-ubyte.gz
    fashion-mnist/train-labels-idx1-ubyte.gz
    fashion-mnist/t10k-images-idx3-ubyte.gz
    fashion-mnist/t10k-labels-idx1-ubyte.gz
)

fmnist_train_count=6000
fmnist_test_count=1000
fmnist_pixels=$((28 * 28))

die() {
    echo "build.sh: $*" >&2
    exit 1
}

# require_file PATH PACKAGE: make sure PATH exists, installing PACKAGE when we are root.
require_file() {
    local path="$1" package="$2"
    [[ -e "$path" ]] && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        die "missing $path: install the Debian package '$package' (apt-get install $package)"
    fi
    echo "build.sh: installing $package for $path" >&2
    if ! apt-get install -y "$package" >&2; then
        apt-get update >&2
        apt-get install -y "$package" >&2
    fi
    [[ -e "$path" ]] || die "package '$package' is installed but $path is still missing"
}

require_sources() {
    require_file "$pima_arff" weka
    require_file "$digits_csv" python3-sklearn
    require_file "$fmnist_dir/train-images-idx3-ubyte.gz" dataset-fashion-mnist
    require_file "$fmnist_dir/train-labels-idx1-ubyte.gz" dataset-fashion-mnist
    require_file "$fmnist_dir/t10k-images-idx3-ubyte.gz" dataset-fashion-mnist
    require_file "$fmnist_dir/t10k-labels-idx1-ubyte.gz" dataset-fashion-mnist
}

# Deterministic gzip: no name, no timestamp, fixed level.
compress() {
    gzip -n -9 -c
}

# Pima diabetes: the 768 data rows of the ARFF file, in file order. Each of the 8
# numeric columns is min-max scaled to [-1, 1], (x - min) / (max - min) * 2 - 1,
# printed with %g (6 significant digits); the class comes last as 0/1 with
# tested_positive -> 1. No header.
build_diabetes() {
    local out="$1"
    awk -F, '
        /^@data/ { in_data = 1; next }
        !in_data || /^[ \t]*(%|$)/ { next }
        {
            sub(/\r$/, "")
            if (NF != 9) { printf "bad row %d: %s\n", NR, $0 > "/dev/stderr"; exit 2 }
            rows++
            for (c = 1; c <= 8; c++) {
                v = $c + 0
                cell[rows, c] = v
                if (rows == 1 || v < lo[c]) lo[c] = v
                if (rows == 1 || v > hi[c]) hi[c] = v
            }
            if ($9 == "tested_positive") label[rows] = 1
            else if ($9 == "tested_negative") label[rows] = 0
            else { printf "bad class %d: %s\n", NR, $9 > "/dev/stderr"; exit 2 }
        }
        END {
            if (rows != 768) { printf "expected 768 rows, got %d\n", rows > "/dev/stderr"; exit 2 }
            for (r = 1; r <= rows; r++) {
                for (c = 1; c <= 8; c++) {
                    s = (cell[r, c] - lo[c]) / (hi[c] - lo[c]) * 2 - 1
                    # A value that is zero up to rounding error prints as 0, not 1e-17.
                    if (s > -1e-12 && s < 1e-12) s = 0
                    printf "%g,", s
                }
                printf "%d\n", label[r]
            }
        }
    ' "$pima_arff" | compress >"$out"
}

# Digits: scikit-learn already stores 1,797 rows of 64 pixels (0-16) and the label
# last, comma separated, no header. Only the compression is redone.
build_digits() {
    local out="$1"
    local rows
    rows="$(gzip -dc "$digits_csv" | awk -F, 'NF != 65 { bad = 1 } END { print bad ? -1 : NR }')"
    [[ "$rows" == 1797 ]] || die "$digits_csv: expected 1797 rows of 65 fields, got $rows"
    gzip -dc "$digits_csv" | compress >"$out"
}

# be32 N: N as a 4-byte big-endian unsigned integer on stdout.
be32() {
    local n="$1" shift
    for shift in 24 16 8 0; do
        printf '%b' "\\0$(printf '%03o' $(((n >> shift) & 255)))"
    done
}

# idx_head SRC.gz HEADER_BYTES RECORDS RECORD_BYTES: the first RECORDS records of an
# IDX file, without its header. Reading stops early, so the decompressor may die of
# SIGPIPE; the length check below is what tells a good read from a bad one.
idx_head() {
    local src="$1" header_bytes="$2" records="$3" record_bytes="$4"
    local want=$((header_bytes + records * record_bytes))
    (
        set +o pipefail
        gzip -dc "$src" | head -c "$want" | tail -c +"$((header_bytes + 1))"
    )
}

# fmnist_subset KIND COUNT OUTDIR: the first COUNT images and labels of the
# "train" or "t10k" split, as IDX files with headers rewritten for COUNT.
fmnist_subset() {
    local kind="$1" count="$2" outdir="$3"
    local images="$kind-images-idx3-ubyte" labels="$kind-labels-idx1-ubyte"
    local tmp="$outdir/.$kind.tmp"

    # images: magic 0x00000803, count, 28 rows, 28 columns, then count*784 bytes
    idx_head "$fmnist_dir/$images.gz" 16 "$count" "$fmnist_pixels" >"$tmp"
    [[ "$(stat -c %s "$tmp")" -eq $((count * fmnist_pixels)) ]] ||
        die "$fmnist_dir/$images.gz holds fewer than $count images"
    { be32 $((0x803)); be32 "$count"; be32 28; be32 28; cat "$tmp"; } | compress >"$outdir/$images.gz"

    # labels: magic 0x00000801, count, then count bytes
    idx_head "$fmnist_dir/$labels.gz" 8 "$count" 1 >"$tmp"
    [[ "$(stat -c %s "$tmp")" -eq "$count" ]] ||
        die "$fmnist_dir/$labels.gz holds fewer than $count labels"
    { be32 $((0x801)); be32 "$count"; cat "$tmp"; } | compress >"$outdir/$labels.gz"
    rm -f "$tmp"
}

# The package's files must be the full 60,000/10,000-image sets of 28x28 images.
check_fmnist_headers() {
    local kind total header
    for kind in train t10k; do
        total=$([[ $kind == train ]] && echo 60000 || echo 10000)
        header="$(idx_head "$fmnist_dir/$kind-images-idx3-ubyte.gz" 0 1 16 | od -An -tx1 | tr -d ' \n')"
        [[ "$header" == "$( { be32 $((0x803)); be32 "$total"; be32 28; be32 28; } | od -An -tx1 | tr -d ' \n')" ]] ||
            die "$fmnist_dir/$kind-images-idx3-ubyte.gz: unexpected IDX header $header"
        header="$(idx_head "$fmnist_dir/$kind-labels-idx1-ubyte.gz" 0 1 8 | od -An -tx1 | tr -d ' \n')"
        [[ "$header" == "$( { be32 $((0x801)); be32 "$total"; } | od -An -tx1 | tr -d ' \n')" ]] ||
            die "$fmnist_dir/$kind-labels-idx1-ubyte.gz: unexpected IDX header $header"
    done
}

# build_all OUTDIR: every dataset file and checksums.sha256 into OUTDIR.
build_all() {
    local outdir="$1"
    mkdir -p "$outdir/fashion-mnist"
    build_diabetes "$outdir/diabetes.csv.gz"
    build_digits "$outdir/digits.csv.gz"
    check_fmnist_headers
    fmnist_subset train "$fmnist_train_count" "$outdir/fashion-mnist"
    fmnist_subset t10k "$fmnist_test_count" "$outdir/fashion-mnist"
    (cd "$outdir" && sha256sum "${built_files[@]}") >"$outdir/checksums.sha256"
}

check_tmpdir=""

check_all() {
    local status=0 f tmpdir
    check_tmpdir="$(mktemp -d)"
    trap 'rm -rf "$check_tmpdir"' EXIT
    tmpdir="$check_tmpdir"
    build_all "$tmpdir"
    for f in "${built_files[@]}" checksums.sha256; do
        if [[ ! -e "$here/$f" ]]; then
            echo "MISSING  $f" >&2
            status=1
        elif cmp -s "$tmpdir/$f" "$here/$f"; then
            echo "ok       $f"
        else
            echo "DIFFERS  $f" >&2
            status=1
        fi
    done
    if [[ $status -ne 0 ]]; then
        echo "build.sh --check: the files in $here do not match a fresh build" >&2
    else
        echo "build.sh --check: all files match a fresh build"
    fi
    return $status
}

main() {
    case "${1:-}" in
        "")
            require_sources
            build_all "$here"
            echo "build.sh: rebuilt datasets in $here"
            ;;
        --check)
            require_sources
            check_all
            ;;
        -h | --help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            ;;
        *)
            die "unknown option '$1' (use --check or --help)"
            ;;
    esac
}

main "$@"
