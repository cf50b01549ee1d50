package dev.txguard.benchmarks;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Why wrapping H2's ResultSet costs more per row than wrapping a stub's: 1,000 rows read through a
 * delegating wrapper shaped as txguard's (a final field, one call each), or directly. Each call of the
 * rows either reads a volatile first, as H2's do (its closed checks read an AtomicReference), or does not.
 * After a volatile read JDK 17's JIT does not reuse what it loaded before, so each call through the
 * wrapper loads the wrapper's field again and checks the class of what it holds; without one, it loads
 * it once. (Temurin 25's JIT spares the reload: there the wrapper costs nothing either way.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WrapperCost {

    static final int ROWS = 1000;

    @Param({"direct", "wrapped"})
    public String variant;

    /** {@code volatile}: every call reads a volatile first; {@code plain}: none does. */
    @Param({"volatile", "plain"})
    public String check;

    interface Rows {
        boolean next();

        int getInt();

        long getLong();
    }

    static final class DriverRows implements Rows {
        private final AtomicReference<Object> closedBy = new AtomicReference<>();
        private final boolean checks;
        private int row;

        DriverRows(boolean checks) {
            this.checks = checks;
        }

        @Override
        public boolean next() {
            checkOpen();
            return ++row <= ROWS;
        }

        @Override
        public int getInt() {
            checkOpen();
            return row;
        }

        @Override
        public long getLong() {
            checkOpen();
            return row * 7L;
        }

        private void checkOpen() {
            if (checks && closedBy.get() != null) throw new IllegalStateException("closed");
        }
    }

    static final class WrappedRows implements Rows {
        private final Rows delegate;

        WrappedRows(Rows delegate) {
            this.delegate = delegate;
        }

        @Override
        public boolean next() {
            return delegate.next();
        }

        @Override
        public int getInt() {
            return delegate.getInt();
        }

        @Override
        public long getLong() {
            return delegate.getLong();
        }
    }

    @Benchmark
    public void iterate1000Rows(Blackhole bh) {
        Rows driver = new DriverRows(check.equals("volatile"));
        Rows rows = variant.equals("wrapped") ? new WrappedRows(driver) : driver;
        while (rows.next()) {
            bh.consume(rows.getInt());
            bh.consume(rows.getLong());
        }
    }
}
