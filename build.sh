#!/usr/bin/env bash
# The one command. See README.md.
#   ./build.sh                 install missing system packages, build (libraries release, weaver debug), make the report
#   ./build.sh test            the whole test suite (what CI runs)
#   ./build.sh figure NAME     re-make one figure and what it needs, then the report
#   ./build.sh --scale tiny|default|paper    experiment size (default: default)
#   ./build.sh --svhn DIR      real SVHN .mat files instead of the embedded generator
#   ./build.sh --fetch-svhn DIR   download the three SVHN files (MD5-checked), for machines online
#   Other options go to the weaver (see `weave build --help`), e.g. --jobs 2 --threads 1.
set -euo pipefail
cd "$(dirname "$0")"

# System packages the build and the report need (Debian names).
PACKAGES=(libopenblas-dev libcairo2-dev libpng-dev zlib1g-dev libjpeg62-turbo-dev pkg-config
          cmark-gfm libcmark-gfm-dev libcmark-gfm-extensions-dev libssl-dev katex node-commander
          dataset-fashion-mnist fonts-dejavu-core fonts-liberation fonts-freefont-ttf
          libopenmpi-dev openmpi-bin)

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "build.sh: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "build.sh: missing system packages. Run as root:" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

# OpenBLAS chooses its kernel when it loads; pick the AVX-512 one when the CPU has it
# (the programs also do this themselves; setting it here covers the test runner).
blas_env() {
    if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo \
       && grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && grep -qw avx512cd /proc/cpuinfo; then
        export OPENBLAS_CORETYPE=SkylakeX
    fi
}

# A generated stage package (the weaver's, or the end-to-end test's) needs the project's
# libraries compiled in its compile folder. A release build of one Swift module runs on about
# one core, so they compile in the background beside the build that comes first, not after
# it, on a machine with 2 cores or more. A failure here shows again, with its errors, when the
# stage package compiles. $prebuild is the background job (empty: none started).
prebuild=""
prebuild_libraries() {
    mkdir -p "$1"
    swift build -c release --scratch-path "$1" --target StageLibraries >"$1.prebuild.log" 2>&1 &
    prebuild=$!
}
wait_prebuild() {
    [ -n "$prebuild" ] || return 0
    wait "$prebuild" || echo "build.sh: compiling the libraries ahead failed ($1.prebuild.log); they compile with the stages" >&2
}

export PATH="/opt/swift/usr/bin:$PATH"
install_packages
blas_env

cmd="report"
args=()
scale="default"
while [ $# -gt 0 ]; do
    case "$1" in
        test) cmd="test"; shift ;;
        figure) cmd="figure"; shift; args+=("${1:?figure needs a NAME}"); shift ;;
        --scale) scale="${2:?--scale needs tiny, default or paper}"; shift 2 ;;
        --svhn) args+=(--data "${2:?--svhn needs the folder with the .mat files}"); shift 2 ;;
        --fetch-svhn) cmd="fetch"; fetch_dir="${2:?--fetch-svhn needs a folder}"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

case "$cmd" in
    test)
        # Release mode (training tests are slow unoptimised), with testing enabled for
        # @testable imports, in its own build folder so the report's build stays as it is.
        # The end-to-end test compiles a stage package against the libraries in
        # .build/weave-e2e/build: for the whole suite they compile there beside the test build.
        [ ${#args[@]} -ne 0 ] || prebuild_libraries .build/weave-e2e/build
        swift build -c release --build-tests --scratch-path .build-test -Xswiftc -enable-testing
        wait_prebuild .build/weave-e2e/build
        swift test -c release --skip-build --scratch-path .build-test "${args[@]}"
        # The engine's tests again on every other kernel path this CPU runs (ENGINE_ISA forces
        # one; a path the CPU lacks is refused, so it is skipped): bit-exactness claims must hold
        # on each path, not only on the one this machine picks first.
        if [ ${#args[@]} -eq 0 ]; then
            probe=.build-test/release/noisy-student
            default=""
            for isa in avx512 avx2 portable; do
                if ENGINE_ISA=$isa "$probe" --help >/dev/null 2>&1; then
                    if [ -z "$default" ]; then default=$isa; continue; fi
                    echo "build.sh: the engine's tests on the $isa kernel path (ENGINE_ISA=$isa)"
                    ENGINE_ISA=$isa swift test -c release --skip-build --scratch-path .build-test --filter EngineTests
                fi
            done
        fi
        ;;
    report|figure)
        # Skipped when the options name another cache or compile folder.
        if ! printf '%s\n' "${args[@]}" | grep -qE '^--(cache|scratch|root)'; then
            prebuild_libraries .weave-cache/build
        fi
        # The weaver only schedules processes, hashes (libcrypto) and renders: a debug build of it
        # compiles in about 45 s instead of 120 and runs a build within a second or two of a
        # release one, while the libraries the stages link compile beside it in release mode.
        swift build --product weave
        wait_prebuild .weave-cache/build
        bin="$(swift build --show-bin-path)"
        # figures/ holds the published default-scale figures (committed); other scales draw
        # theirs beside their report so a quick tiny build never overwrites them.
        figures=(); [ "$scale" = "default" ] || figures=(--figures "report/figures-$scale")
        if [ "$cmd" = "report" ]; then
            "$bin/weave" build --scale "$scale" "${figures[@]}" "${args[@]}"
            echo "report: $PWD/report/index.html"
        else
            "$bin/weave" figure --scale "$scale" "${figures[@]}" "${args[@]}"
        fi
        # Every published number of the default-scale report, beside its figures.
        [ "$scale" != "default" ] || cp report/results.json figures/results.json
        ;;
    fetch)
        swift build -c release --product noisy-student
        "$(swift build -c release --show-bin-path)/noisy-student" fetch-svhn --dir "$fetch_dir"
        ;;
esac
