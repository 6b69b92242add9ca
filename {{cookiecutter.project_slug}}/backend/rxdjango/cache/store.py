"""MongoDB documents of cached anchors, with GridFS for instances over the document size limit.

Each channel has one collection. A document contains one flat instance of one anchor:

    _id        f"{anchor}:{instance_type}:{id}"
    _anchor    the anchor id as str
    _tstamp    the flat instance's _tstamp
    _user      the owner's user id for user_key layers, else None
    _deleted   True for a tombstone, which is kept so that a reconnecting client learns the deletion
    _flat      the flat instance encoded as JSON bytes, or instead
    _gridfs    the id of the GridFS file that contains those bytes, when they exceed MAX_INLINE_BYTES

The flat instance is stored as JSON bytes, not as BSON fields, because FerretDB 1.24 rejects
keys that contain "." or start with "$" at any depth, and JSONField content may have them.

Every write keeps the document with the newest `_tstamp`: a write whose tstamp is older
than the stored one changes nothing. The compare (a read by _id) and the replace run under
the anchor's write lock from the caller, because FerretDB 1.24 (SQLite backend) runs
findAndModify and filtered updates as a read and a separate write: with 12 threads
replacing one document, 15 of 20 trials ended with an older tstamp stored. Reading and
replacing by _id alone also avoids a collection scan there: a filter on _id and _tstamp
took 30 ms on 11,000 documents, one on _id alone 5 ms.
"""

import logging
from dataclasses import dataclass

import gridfs
import orjson
from pymongo.errors import BulkWriteError

from rxdjango.connections import async_mongo_db, sync_mongo_db

logger = logging.getLogger("rxdjango.cache")

# MongoDB rejects documents over 16 MiB, and the margin leaves room for the other fields.
MAX_INLINE_BYTES = 16 * 1024 * 1024 - 64 * 1024

DUPLICATE_KEY_ERROR = 11000

# Queries on _anchor alone use the prefix of this index, so a separate _anchor index would
# only slow down the inserts of every load.
INDEXES = (([("_anchor", 1), ("_tstamp", 1)], "anchor_tstamp"),)

REQUIRED_FLAT_FIELDS = ("id", "_instance_type", "_tstamp")


@dataclass(frozen=True)
class WriteResult:
    """Outcome of a signal-side write.

    `written` is False when the stored document is newer than the write. `previous` is the
    live flat instance that the write replaced, or None when there was none or it was a
    tombstone.
    """

    written: bool
    previous: dict | None = None


def document_id(anchor, instance_type, instance_id):
    return f"{anchor}:{instance_type}:{instance_id}"


def storable_user_id(user_id):
    """Return the user id as stored in MongoDB and Redis: int and str as they are, others as str."""
    if user_id is None or isinstance(user_id, int | str):
        return user_id
    return str(user_id)


def encode_document(anchor, flat, user_id, deleted):
    """Build the document of a flat instance.

    Returns (document, payload): payload is None when the JSON bytes fit in the document,
    else the bytes that the caller must store in GridFS before setting `_gridfs`.
    """
    missing = [name for name in REQUIRED_FLAT_FIELDS if name not in flat]
    if missing:
        raise ValueError(f"flat instance {flat!r:.200} lacks {', '.join(missing)}. Build it with Layer.serialize().")

    payload = orjson.dumps(flat)
    document = {
        "_id": document_id(anchor, flat["_instance_type"], flat["id"]),
        "_anchor": anchor,
        "_tstamp": float(flat["_tstamp"]),
        "_user": storable_user_id(user_id),
        "_deleted": deleted,
    }
    if len(payload) <= MAX_INLINE_BYTES:
        document["_flat"] = payload
        return document, None
    return document, payload


def gridfs_metadata(document):
    return {"anchor": document["_anchor"], "tstamp": document["_tstamp"], "document": document["_id"]}


# Flat instance fields that change on every serialization, even when the data does not.
VOLATILE_FIELDS = ("_tstamp", "_operation")


def unchanged(previous, document):
    """Return whether a stored live document has the same data and owner as a new one."""
    if previous is None or previous["_deleted"] or document["_deleted"]:
        return False
    if "_flat" not in previous or "_flat" not in document or previous["_user"] != document["_user"]:
        return False
    old = orjson.loads(previous["_flat"])
    new = orjson.loads(document["_flat"])
    for name in VOLATILE_FIELDS:
        old.pop(name, None)
        new.pop(name, None)
    return old == new


def anchor_filter(anchor, up_to=None):
    query = {"_anchor": anchor}
    if up_to is not None:
        query["_tstamp"] = {"$lte": up_to}
    return query


def missing_file_error(document):
    return RuntimeError(
        f"GridFS file {document['_gridfs']} of cached document {document['_id']} is missing. "
        "Clear the anchor's cache so that the next client reloads it from the database."
    )


class DocumentStore:
    """The documents of one channel, in the collection named after the channel key."""

    def __init__(self, channel_key):
        self.collection_name = channel_key.replace(".", "_")
        self.bucket_name = f"{self.collection_name}_gridfs"
        self._indexes_ready = False

    # Synchronous side: signal handlers and management commands.

    def _collection(self):
        collection = sync_mongo_db()[self.collection_name]
        if not self._indexes_ready:
            for keys, name in INDEXES:
                collection.create_index(keys, name=name)
            self._indexes_ready = True
        return collection

    def _bucket(self):
        return gridfs.GridFSBucket(sync_mongo_db(), bucket_name=self.bucket_name)

    def write(self, anchor, flat, user_id, deleted, lock):
        """Store a flat instance (or its tombstone) unless the stored document is newer.

        lock is the anchor's write lock, a context manager held around the compare-and-replace.
        """
        collection = self._collection()
        document, payload = encode_document(anchor, flat, user_id, deleted)
        if payload is not None:
            document["_gridfs"] = self._bucket().upload_from_stream(
                document["_id"], payload, metadata=gridfs_metadata(document)
            )

        with lock:
            # Under the anchor's lock a read followed by a replace is atomic. Both match on
            # _id alone, which FerretDB 1.24 looks up by its primary key; a filter that adds
            # _tstamp makes it scan the collection.
            previous = collection.find_one({"_id": document["_id"]})
            if previous is not None and previous["_tstamp"] > document["_tstamp"]:
                previous = False
            elif unchanged(previous, document):
                # Nothing to store: the cached instance already has these values.
                return WriteResult(written=True, previous=self._decode(previous))
            elif previous is None:
                collection.insert_one(document)
            else:
                # Without upsert, because FerretDB 1.24 runs an upserting replace much more slowly.
                collection.replace_one({"_id": document["_id"]}, document)

        if previous is False:
            if payload is not None:
                self._delete_files([document["_gridfs"]])
            logger.debug("Kept the newer cached document %s over a write at %s", document["_id"], document["_tstamp"])
            return WriteResult(written=False)

        previous_flat = None
        if previous is not None:
            if not previous["_deleted"]:
                previous_flat = self._decode(previous)
            if "_gridfs" in previous:
                self._delete_files([previous["_gridfs"]])
        return WriteResult(written=True, previous=previous_flat)

    def _decode(self, document):
        if "_flat" in document:
            return orjson.loads(document["_flat"])
        try:
            payload = self._bucket().open_download_stream(document["_gridfs"]).read()
        except gridfs.NoFile as error:
            raise missing_file_error(document) from error
        return orjson.loads(payload)

    def _delete_files(self, file_ids):
        bucket = self._bucket()
        for file_id in file_ids:
            try:
                bucket.delete(file_id)
            except gridfs.NoFile:
                logger.debug("GridFS file %s of %s was already deleted", file_id, self.collection_name)

    def contains(self, anchor, instance_type, instance_id):
        """Return whether the anchor's cache contains a live (not deleted) document of the instance."""
        query = {"_id": document_id(anchor, instance_type, instance_id), "_deleted": False}
        return self._collection().find_one(query, projection={"_id": 1}) is not None

    def delete_anchor(self, anchor, up_to=None):
        """Delete the anchor's documents and GridFS files, only those with _tstamp <= up_to if given."""
        # NOTE: a write of a large instance that has uploaded its GridFS file but not yet
        # stored the document loses the file here, and reading that document later raises.
        deleted = self._collection().delete_many(anchor_filter(anchor, up_to)).deleted_count
        bucket = self._bucket()
        files = [grid_out._id for grid_out in bucket.find(self._files_filter(anchor, up_to))]
        self._delete_files(files)
        return deleted

    def _files_filter(self, anchor, up_to):
        query = {"metadata.anchor": anchor}
        if up_to is not None:
            query["metadata.tstamp"] = {"$lte": up_to}
        return query

    def drop(self):
        """Drop the channel's collection and GridFS bucket, then recreate the indexes."""
        db = sync_mongo_db()
        db.drop_collection(self.collection_name)
        db.drop_collection(f"{self.bucket_name}.files")
        db.drop_collection(f"{self.bucket_name}.chunks")
        self._indexes_ready = False
        self._collection()

    # Asynchronous side: the WebSocket consumers.

    async def _async_collection(self):
        collection = async_mongo_db()[self.collection_name]
        if not self._indexes_ready:
            for keys, name in INDEXES:
                await collection.create_index(keys, name=name)
            self._indexes_ready = True
        return collection

    def _async_bucket(self):
        return gridfs.AsyncGridFSBucket(async_mongo_db(), bucket_name=self.bucket_name)

    async def write_batch(self, anchor, flats, user_ids, lock):
        """Store a heating batch, keeping the documents that a newer write already stored.

        lock is the anchor's write lock, an async context manager. The batch is one unordered
        insert. A duplicate key there means a signal-side write stored the instance first,
        so that document is replaced only if it is older.
        """
        if len(flats) != len(user_ids):
            raise ValueError(f"a heating batch has {len(flats)} instances but {len(user_ids)} user ids")
        if not flats:
            return
        collection = await self._async_collection()
        bucket = self._async_bucket()
        documents = []
        for flat, user_id in zip(flats, user_ids, strict=True):
            document, payload = encode_document(anchor, flat, user_id, deleted=False)
            if payload is not None:
                document["_gridfs"] = await bucket.upload_from_stream(
                    document["_id"], payload, metadata=gridfs_metadata(document)
                )
            documents.append(document)

        async with lock:
            try:
                await collection.insert_many(documents, ordered=False)
                return
            except BulkWriteError as error:
                write_errors = error.details.get("writeErrors", [])
                if any(write_error["code"] != DUPLICATE_KEY_ERROR for write_error in write_errors):
                    raise
            replaced = [
                await self._replace_existing(collection, documents[write_error["index"]])
                for write_error in write_errors
            ]

        # GridFS files of documents that lost or were replaced are deleted outside the lock.
        orphans = [file_id for file_id in replaced if file_id is not None]
        await self._async_delete_files(orphans)

    async def _replace_existing(self, collection, document):
        """Replace an existing document unless it is newer. Returns the GridFS file id left unused, or None.

        NOTE: pymongo's bulk_write of upserts is not used because FerretDB 1.24 stops an
        unordered update batch at the first duplicate key and reports no counts. The
        findAndModify projection ("fields") is not used either: FerretDB 1.24 rejects it.
        """
        # The caller holds the anchor's lock, so the read and the replace are atomic.
        previous = await collection.find_one({"_id": document["_id"]})
        if previous is not None and previous["_tstamp"] > document["_tstamp"]:
            logger.debug("Kept the newer cached document %s over a heating write", document["_id"])
            return document.get("_gridfs")
        if previous is None:
            await collection.insert_one(document)
            return None
        await collection.replace_one({"_id": document["_id"]}, document)
        return previous.get("_gridfs")

    async def _async_decode(self, document):
        if "_flat" in document:
            return orjson.loads(document["_flat"])
        try:
            stream = await self._async_bucket().open_download_stream(document["_gridfs"])
            payload = await stream.read()
        except gridfs.NoFile as error:
            raise missing_file_error(document) from error
        return orjson.loads(payload)

    async def _async_delete_files(self, file_ids):
        bucket = self._async_bucket()
        for file_id in file_ids:
            try:
                await bucket.delete(file_id)
            except gridfs.NoFile:
                logger.debug("GridFS file %s of %s was already deleted", file_id, self.collection_name)

    async def read(self, anchor, since, batch_size):
        """Yield lists of (flat, user_id) of the anchor.

        Without since, only live documents. With since, every document with _tstamp > since,
        tombstones included, oldest first.
        """
        collection = await self._async_collection()
        query = {"_anchor": anchor}
        # The server encodes and sends only the fields read here.
        projection = {"_flat": 1, "_gridfs": 1, "_user": 1}
        if since is None:
            query["_deleted"] = False
            cursor = collection.find(query, projection=projection, batch_size=batch_size)
        else:
            query["_tstamp"] = {"$gt": since}
            cursor = collection.find(query, projection=projection, batch_size=batch_size).sort("_tstamp", 1)

        batch = []
        async for document in cursor:
            if "_flat" in document:
                flat = orjson.loads(document["_flat"])
            else:
                flat = await self._async_decode(document)
            batch.append((flat, document["_user"]))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    async def live_owners(self, anchors, instance_type, instance_id):
        """Return {anchor: _user} for the anchors that have a live (not deleted) document of the instance."""
        if not anchors:
            return {}
        collection = await self._async_collection()
        ids = [document_id(anchor, instance_type, instance_id) for anchor in anchors]
        projection = {"_anchor": 1, "_user": 1, "_deleted": 1}
        # The filter names _id alone: FerretDB serves a filter on _id from its primary key
        # but scans the collection when another field is added, so tombstones are skipped here.
        if len(ids) == 1:
            document = await collection.find_one({"_id": ids[0]}, projection=projection)
            documents = [] if document is None else [document]
        else:
            documents = [document async for document in collection.find({"_id": {"$in": ids}}, projection=projection)]
        return {document["_anchor"]: document["_user"] for document in documents if not document["_deleted"]}

    async def async_delete_anchor(self, anchor, up_to=None):
        """Delete the anchor's documents and GridFS files, only those with _tstamp <= up_to if given."""
        collection = await self._async_collection()
        deleted = (await collection.delete_many(anchor_filter(anchor, up_to))).deleted_count
        bucket = self._async_bucket()
        files = [grid_out._id async for grid_out in bucket.find(self._files_filter(anchor, up_to))]
        await self._async_delete_files(files)
        return deleted
