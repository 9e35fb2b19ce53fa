using HammingDB.Storage;
using HammingDB.Storage.Attachments;
using HammingDB.Storage.Manifest;

namespace HammingDB;

// Collection attachments: named blobs (a trained encoder) kept in files of their own (AttachmentFile)
// and named by the manifest. A change writes the new file durably, then switches the manifest under the
// write lock like every other manifest change; the replaced or removed version's file is deleted only
// after the switch. Reads hold the attachment gate, so a change never deletes a file a read is reading.
public sealed partial class HammingDatabase
{
    // Taken before the write lock by attachment changes, and alone by attachment reads.
    private readonly object _attachmentGate = new();

    internal void SetAttachment(CollectionRuntime collection, string name, ReadOnlySpan<byte> content)
    {
        ThrowIfReadOnly(nameof(SetAttachment));
        ValidateAttachmentName(name);
        if (content.Length > AttachmentFile.MaxContentBytes)
        {
            throw new ArgumentException($"An attachment holds at most {AttachmentFile.MaxContentBytes} bytes (64 MiB); got {content.Length}.", nameof(content));
        }
        lock (_attachmentGate)
        {
            lock (_writeGate)
            {
                ThrowIfUnusable();
                long fileNumber = _manifest.NextFileNumber;
                // Written, synced and renamed before the manifest names it; if the switch below never happens,
                // the next open removes the file (not named by the manifest).
                AttachmentFile.Write(_fs, _directory, fileNumber, collection.Definition.Id, name, content);
                CollectionState state = StateOf(collection);
                AttachmentState? old = state.Attachments.FirstOrDefault(a => a.Name == name);
                List<AttachmentState> attachments = [.. state.Attachments.Where(a => a.Name != name), new AttachmentState(name, fileNumber)];
                attachments.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                SwitchAttachments(collection, attachments, fileNumber + 1, old);
            }
        }
    }

    internal byte[]? GetAttachment(CollectionRuntime collection, string name)
    {
        ValidateAttachmentName(name);
        lock (_attachmentGate)
        {
            AttachmentState? attachment;
            lock (_writeGate)
            {
                ThrowIfUnusable();
                attachment = StateOf(collection).Attachments.FirstOrDefault(a => a.Name == name);
            }
            return attachment is null ? null : AttachmentFile.Read(_fs, _directory, attachment.FileNumber, collection.Definition.Id, name);
        }
    }

    internal bool RemoveAttachment(CollectionRuntime collection, string name)
    {
        ThrowIfReadOnly(nameof(RemoveAttachment));
        ValidateAttachmentName(name);
        lock (_attachmentGate)
        {
            lock (_writeGate)
            {
                ThrowIfUnusable();
                CollectionState state = StateOf(collection);
                AttachmentState? old = state.Attachments.FirstOrDefault(a => a.Name == name);
                if (old is null)
                {
                    return false;
                }
                SwitchAttachments(collection, [.. state.Attachments.Where(a => a.Name != name)], _manifest.NextFileNumber, old);
                return true;
            }
        }
    }

    internal IReadOnlyList<string> AttachmentNames(CollectionRuntime collection)
    {
        lock (_writeGate)
        {
            ThrowIfUnusable();
            return StateOf(collection).Attachments.Select(a => a.Name).ToList();
        }
    }

    private static void ValidateAttachmentName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (AttachmentFile.NameProblem(name) is { } problem)
        {
            throw new ArgumentException($"Bad attachment name: {problem}.", nameof(name));
        }
    }

    // The collection as the manifest has it now (under the write lock): its attachments live only there.
    private CollectionState StateOf(CollectionRuntime collection) => _manifest.Collections.Single(c => c.Id == collection.Definition.Id);

    // Under both gates: the manifest switch that commits an attachment change, then the old version's file goes.
    private void SwitchAttachments(CollectionRuntime collection, List<AttachmentState> attachments, long nextFileNumber, AttachmentState? replaced)
    {
        uint id = collection.Definition.Id;
        var manifest = _manifest with
        {
            Version = _manifest.Version + 1,
            NextFileNumber = nextFileNumber,
            Collections = _manifest.Collections.Select(c => c.Id == id ? c with { Attachments = attachments } : c).ToList(),
        };
        try
        {
            ManifestStore.Write(_fs, _directory, manifest);
        }
        catch (Exception e)
        {
            // The rename may or may not have reached the disk (a failed directory sync): which manifest a reopen
            // finds is unknown, so memory cannot follow either. Stop, as after a failed log sync; a reopen recovers.
            Stop(e);
            throw;
        }
        KillPoints.Hit(KillPoints.AttachmentSwitched);
        // Committed. From here a failure leaves memory behind the disk: stop, and let a reopen recover.
        try
        {
            _manifest = manifest;
            CheckpointKeys(Keys, manifest.Version); // the index matches this manifest version (else the next open rebuilds it)
            if (replaced is not null)
            {
                _fs.Delete(System.IO.Path.Combine(_directory, FileNames.Attachment(replaced.FileNumber)));
                KillPoints.Hit(KillPoints.AttachmentOldDeleted);
            }
        }
        catch (Exception e)
        {
            Stop(e);
            throw;
        }
    }
}
