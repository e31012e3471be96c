# Tiny assertion helpers for the device-side tests (MicroPython has no pytest).
failures = []


def eq(got, want, what):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))


def ok(cond, what):
    if not cond:
        failures.append(what)


def near(got, want, tol, what):
    if got is None or abs(got - want) > tol:
        failures.append("%s: got %r, want %r +- %r" % (what, got, want, tol))


def done(name):
    import sys

    for f in failures:
        print("FAIL", f)
    print("%s: %s (%d failures)" % (name, "FAILED" if failures else "ok", len(failures)))
    sys.exit(1 if failures else 0)
