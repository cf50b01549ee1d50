package dev.txguard.agent;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.pool.TypePool;

/**
 * What Byte Buddy reads of a class's super types, kept per class loader for every class that loader defines later,
 * and for both of the agent's transformers. Without it, every class loaded had its whole hierarchy's class files
 * found and parsed again, twice: at a Spring Boot application's start-up that was most of what the agent cost.
 * A loader's cache is held softly (the JVM may drop it when memory is short, and it is then read again) and the
 * loader weakly (an undeployed application's loader is not kept alive). A type not found is not kept: a class can
 * become loadable later (one a library injects at run time), and is looked for again.
 */
final class SharedTypeCache extends AgentBuilder.PoolStrategy.WithTypePoolCache {

    private final Map<ClassLoader, TypePool.CacheProvider> byLoader = Collections.synchronizedMap(new WeakHashMap<>());
    private final TypePool.CacheProvider bootstrap = new FoundTypesOnly();

    SharedTypeCache() {
        super(TypePool.Default.ReaderMode.FAST);
    }

    @Override
    protected TypePool.CacheProvider locate(ClassLoader loader) {
        if (loader == null) return bootstrap;
        return byLoader.computeIfAbsent(loader, unused -> new FoundTypesOnly());
    }

    /** Keeps what was found, softly; a type not found is looked for again next time. */
    private static final class FoundTypesOnly implements TypePool.CacheProvider {
        private final TypePool.CacheProvider found = new TypePool.CacheProvider.Simple.UsingSoftReference();

        @Override
        public TypePool.Resolution find(String name) {
            return found.find(name);
        }

        @Override
        public TypePool.Resolution register(String name, TypePool.Resolution resolution) {
            return resolution instanceof TypePool.Resolution.Illegal ? resolution : found.register(name, resolution);
        }

        @Override
        public void clear() {
            found.clear();
        }
    }
}
