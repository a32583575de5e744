# Sourced by the install scripts: flint.js and the files build.mjs puts beside
# it, built first unless --no-build was given or FLINT_BUNDLE names a
# flint.js (the others are taken from its directory).
# Reads: repo, build (1 or 0), me (the script's name, for messages).
# Sets: bundle (flint.js) and bundle_files (flint.js and everything beside it
# that goes wherever it goes: /usr/lib/flint/ in an initramfs or a root).
bundle=${FLINT_BUNDLE:-$repo/dist/flint.js}
if [[ $build == 1 && -z ${FLINT_BUNDLE:-} ]]; then
    (cd "$repo" && node build.mjs >/dev/null)
fi
# flint.js (agent/loader.ts) runs flint-core.js through the V8 code cache
# flint-core.v8cache; flint-yaml.js is loaded only for a Butane (YAML)
# config, flint-sysinfo.js only by the machine dump after a failure at debug level.
bundle_files=()
for name in flint.js flint-core.js flint-core.v8cache flint-yaml.js flint-sysinfo.js; do
    file=$(dirname "$bundle")/$name
    [[ -s $file ]] || { echo "$me: $file missing; run npm run build" >&2; exit 1; }
    bundle_files+=("$file")
done
