package io.vqrae.pipeline.corpus.format.webdataset.internal;

import java.io.IOException;
import java.util.Collection;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.RecoverableWriter;

/**
 * Publishes the shards of a completed checkpoint under their names and records each one's sample count
 * ({@link ShardRecords}). Both steps are idempotent, so a commit repeated after a failure (Flink commits
 * a restored checkpoint's committables again) publishes and counts each shard once.
 */
public final class ShardCommitter implements Committer<ShardCommittable> {
    private final Path folder;
    private final RecoverableWriter files;

    public ShardCommitter(Path folder) throws IOException {
        this.folder = folder;
        this.files = folder.getFileSystem().createRecoverableWriter();
    }

    @Override
    public void commit(Collection<CommitRequest<ShardCommittable>> requests) throws IOException {
        for (CommitRequest<ShardCommittable> request : requests) {
            ShardCommittable committable = request.getCommittable();
            if (committable.shard() != null) {
                files.recoverForCommit(committable.shard()).commitAfterRecovery();
                ShardRecords.record(folder, new ShardRecords.Shard(committable.name(), committable.samples(), committable.bytes()));
            } else {
                files.cleanupRecoverableState(committable.superseded());
            }
        }
    }

    @Override
    public void close() {}
}
