#!/bin/sh
# Build MatchIt 4.7.2 (and the two imports that Debian bookworm ships too old
# or not at all) from the public source repositories, into a private R library.
#
# Usage:
#     sh tests/reference/matching/install_matchit_4.7.2.sh LIBRARY RLANG_SRC CHK_SRC MATCHIT_SRC
#
# LIBRARY      folder for the private R library (created if missing); afterwards
#              run the reference script with R_LIBS_USER=LIBRARY.
# RLANG_SRC    a source tree of rlang 1.1.6
#              https://github.com/r-lib/rlang, tag v1.1.6
#              (commit 830745e8798b7f2ef7c4afd96ed40d4adfe2fdf0).
#              Debian bookworm's r-cran-rlang is 1.0.6; MatchIt 4.7.2 needs >= 1.1.0.
# CHK_SRC      a source tree of chk 0.10.0
#              https://github.com/poissonconsulting/chk, tag v0.10.0
#              (commit a761383ab1473a7ae2f8594329258d548341f890). Not packaged by Debian.
# MATCHIT_SRC  a source tree of MatchIt 4.7.2
#              https://github.com/kosukeimai/MatchIt, commit
#              14a3cabb76a2a359803014bd379ed5d8691f1bf4 (DESCRIPTION Version 4.7.2,
#              2025-05-29; the merge that closed the 4.7.2 work. Its parent ac853e7,
#              "prep for submission", differs only by renamings and formatting).
#
# A source tree is a plain export of the commit, e.g.
#     mkdir MatchIt && git --git-dir=<clone>/.git archive <commit> | tar -x -C MatchIt
#
# Everything else comes from Debian bookworm packages (apt-get install):
#     r-base-dev r-cran-rcpp r-cran-rcppprogress r-cran-backports r-cran-lifecycle
#     r-cran-jsonlite
# (MatchIt imports backports, chk, rlang, Rcpp; links to Rcpp and RcppProgress;
# chk imports lifecycle and rlang.)
set -eu

if [ "$#" -ne 4 ]; then
    echo "usage: $0 LIBRARY RLANG_SRC CHK_SRC MATCHIT_SRC" >&2
    exit 2
fi
lib=$1
mkdir -p "$lib"

for src in "$2" "$3" "$4"; do
    if [ ! -f "$src/DESCRIPTION" ]; then
        echo "$src: no DESCRIPTION file, not an R package source tree" >&2
        exit 2
    fi
done

check_version() {
    v=$(sed -n 's/^Version: *//p' "$1/DESCRIPTION")
    if [ "$v" != "$2" ]; then
        echo "$1: DESCRIPTION says Version $v, expected $2" >&2
        exit 2
    fi
}
check_version "$2" 1.1.6
check_version "$3" 0.10.0
check_version "$4" 4.7.2

# Order matters: chk needs the new rlang, MatchIt needs both.
R_LIBS_USER=$lib R CMD INSTALL --library="$lib" "$2"
R_LIBS_USER=$lib R CMD INSTALL --library="$lib" "$3"
R_LIBS_USER=$lib R CMD INSTALL --library="$lib" "$4"

R_LIBS_USER=$lib Rscript -e 'for (p in c("rlang", "chk", "MatchIt"))
    cat(p, format(packageVersion(p)), "from", find.package(p), "\n")'
