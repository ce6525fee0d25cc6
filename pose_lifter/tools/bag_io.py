"""rosbag2 bags (sqlite3 and mcap) in and out with ``rosbags``, rclpy messages in between.

Everything goes through serialized CDR: ``rosbags`` reads/writes the bytes rosbag2 stores, and
:func:`rclpy.serialization.deserialize_message` / ``serialize_message`` turn them into the very
rclpy message objects the node receives (so offline replay feeds the pipeline real messages).

The typestore is ROS 2 kilted's (:func:`typestore`) plus ``pose_lifter_msgs`` registered from its
``.msg`` files, so written bags carry every message definition (rosbag2 ``type_description`` /
mcap schemas): ``ros2 bag info/play`` and Foxglove read them without this package installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from rclpy.serialization import deserialize_message, serialize_message
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from pose_lifter.runtime.errors import PoseLifterError

#: Storage names accepted by :class:`BagWriter` (rosbag2's plugin ids).
STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
#: Bag format version written: 8, the newest that Humble's `ros2 bag` reads (version 9 stores
#: offered_qos_profiles as a list; Humble's parser wants a string). Jazzy and Kilted read 8 too.
BAG_VERSION = 8
CUSTOM_PACKAGE = "pose_lifter_msgs"
_REPO_MSG_DIR = Path(__file__).resolve().parents[2] / CUSTOM_PACKAGE / "msg"


class BagError(PoseLifterError):
    """A bag cannot be read or written."""


def _distro_store() -> Stores:
    """``Stores.ROS2_KILTED``, or the newest ROS 2 store this rosbags version knows."""
    for name in ("ROS2_KILTED", "ROS2_JAZZY", "ROS2_HUMBLE"):
        if hasattr(Stores, name):
            return getattr(Stores, name)
    return Stores.LATEST


def msg_directory() -> Path:
    """Return the folder of the pose_lifter_msgs .msg files.

    Folder of the ``pose_lifter_msgs`` ``.msg`` files (installed share/ first, then the source
    tree).
    """
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = Path(get_package_share_directory(CUSTOM_PACKAGE)) / "msg"
        if any(installed.glob("*.msg")):
            return installed
    except Exception:  # noqa: BLE001 - ament index missing or package not in it
        pass
    if any(_REPO_MSG_DIR.glob("*.msg")):
        return _REPO_MSG_DIR
    raise BagError(f"cannot find the {CUSTOM_PACKAGE} .msg files (ament index or {_REPO_MSG_DIR})")


#: Message packages outside the distro store registered from their installed .msg files when
#: present (optional outputs: ``detections_3d``).
OPTIONAL_PACKAGES = ("vision_msgs",)


def _installed_msg_directory(package: str) -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory

        directory = Path(get_package_share_directory(package)) / "msg"
    except Exception:  # noqa: BLE001 - not installed / not in the ament index
        return None
    return directory if any(directory.glob("*.msg")) else None


@lru_cache(maxsize=1)
def typestore():
    """Return the kilted typestore with our message types registered from their .msg files.

    ``pose_lifter_msgs/msg/*`` always; :data:`OPTIONAL_PACKAGES` when they are installed.
    """
    store = get_typestore(_distro_store())
    directories = {CUSTOM_PACKAGE: msg_directory()}
    for package in OPTIONAL_PACKAGES:
        found = _installed_msg_directory(package)
        if found is not None:
            directories[package] = found
    for package, directory in directories.items():
        types: dict = {}
        for path in sorted(directory.glob("*.msg")):
            types.update(
                get_types_from_msg(path.read_text(encoding="utf-8"), f"{package}/msg/{path.stem}")
            )
        store.register(types)
    return store


def rclpy_type(msgtype: str):
    """Return the rclpy message class of ``pkg/msg/Name`` (``ImportError`` when not installed)."""
    package, kind, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def type_name(msg_or_class: Any) -> str:
    """``pkg/msg/Name`` of an rclpy message (class or instance)."""
    cls = msg_or_class if isinstance(msg_or_class, type) else type(msg_or_class)
    package = cls.__module__.split(".")[0]
    return f"{package}/msg/{cls.__name__}"


@dataclass(frozen=True)
class BagMessage:
    """One message of a bag: topic, type, receive time (ns), raw CDR bytes."""

    topic: str
    msgtype: str
    timestamp_ns: int
    data: bytes

    def to_rclpy(self) -> Any:
        """Return the rclpy message (deserialized from the CDR bytes)."""
        return deserialize_message(self.data, rclpy_type(self.msgtype))


@dataclass(frozen=True)
class TopicInfo:
    """A topic of a bag: name, type, message count and its definition (as stored)."""

    name: str
    msgtype: str
    count: int
    msgdef: str
    digest: str


def storage_of(path: str | Path) -> str:
    """``"mcap"`` or ``"sqlite3"``: the storage of an existing bag directory."""
    path = Path(path)
    if any(path.glob("*.mcap")):
        return "mcap"
    if any(path.glob("*.db3")):
        return "sqlite3"
    raise BagError(f"{path}: not a rosbag2 directory (no .mcap or .db3 file)")


class BagReader:
    """Read a rosbag2 directory (sqlite3 or mcap). Use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not (self.path / "metadata.yaml").exists():
            raise BagError(f"{self.path}: not a rosbag2 directory (no metadata.yaml)")
        try:
            self._reader = Reader(self.path)
            self._reader.open()
        except Exception as error:  # noqa: BLE001 - rosbags raises several types
            raise BagError(f"{self.path}: cannot open bag: {error}") from error

    def __enter__(self) -> "BagReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()

    @property
    def storage(self) -> str:
        return storage_of(self.path)

    def topics(self) -> dict[str, TopicInfo]:
        """Topics in the bag by name. Raises :class:`BagError` on corrupt bag metadata."""
        result = {}
        try:
            for conn in self._reader.connections:
                count = sum(c.msgcount for c in self._reader.connections if c.topic == conn.topic)
                result[conn.topic] = TopicInfo(
                    conn.topic,
                    conn.msgtype,
                    count,
                    conn.msgdef.data if conn.msgdef else "",
                    conn.digest or "",
                )
        except Exception as error:  # noqa: BLE001 - rosbags raises several types
            raise BagError(f"{self.path}: corrupt topic table: {error}") from error
        return result

    def messages(self, topics: Iterable[str] | None = None) -> Iterator[BagMessage]:
        """Messages of ``topics`` (all when None) in receive-time order.

        Raises:
            BagError: the storage turned out to be truncated or corrupt while reading (the
                messages before the damage have been yielded already).
        """
        wanted = None if topics is None else set(topics)
        conns = [c for c in self._reader.connections if wanted is None or c.topic in wanted]
        if not conns:
            return
        records = self._reader.messages(connections=conns)
        while True:
            try:
                conn, timestamp, data = next(records)
            except StopIteration:
                return
            except (
                Exception
            ) as error:  # noqa: BLE001 - sqlite (apsw) and mcap readers raise their own types
                raise BagError(f"{self.path}: bag is truncated or corrupt: {error}") from error
            yield BagMessage(conn.topic, conn.msgtype, int(timestamp), bytes(data))


class BagWriter:
    """Write a rosbag2 directory (sqlite3 or mcap) from rclpy messages or raw CDR bytes.

    Every connection is registered with its full message definition and RIHS01 hash from
    :func:`typestore` (or the definition copied from an input bag). Use as a context manager.
    """

    def __init__(self, path: str | Path, storage: str = "mcap"):
        if storage not in STORAGES:
            raise BagError(f"unknown storage {storage!r}; one of {sorted(STORAGES)}")
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f"{self.path} exists; rosbag2 writes a new directory (remove it first)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.storage = storage
        self._writer = Writer(self.path, version=BAG_VERSION, storage_plugin=STORAGES[storage])
        self._writer.open()
        self._connections: dict[str, Any] = {}

    def __enter__(self) -> "BagWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._writer.close()

    def add_topic(self, topic: str, msgtype: str, msgdef: str = "", digest: str = "") -> None:
        """Register ``topic`` (once).

        The definition comes from the typestore when ``msgtype`` is known to it, else from
        ``msgdef``/``digest`` (e.g. copied from an input bag).
        """
        if topic in self._connections:
            return
        store = typestore()
        if msgtype in store.fielddefs:
            conn = self._writer.add_connection(topic, msgtype, typestore=store)
        elif msgdef and digest:
            conn = self._writer.add_connection(topic, msgtype, msgdef=msgdef, rihs01=digest)
        else:
            raise BagError(f"no message definition for {msgtype} (topic {topic})")
        self._connections[topic] = conn

    def write_raw(self, topic: str, msgtype: str, timestamp_ns: int, data: bytes) -> None:
        """Write CDR bytes (``topic`` registered on first use from the typestore)."""
        self.add_topic(topic, msgtype)
        self._writer.write(self._connections[topic], int(timestamp_ns), data)

    def write(self, topic: str, msg: Any, timestamp_ns: int) -> None:
        """Write an rclpy message received at ``timestamp_ns`` (nanoseconds since the epoch)."""
        self.write_raw(topic, type_name(msg), timestamp_ns, serialize_message(msg))


def write_bag(
    path: str | Path, messages: Sequence[tuple[str, Any, int]], storage: str = "mcap"
) -> Path:
    """Write ``(topic, rclpy message, timestamp_ns)`` triples into a new bag; returns its path."""
    with BagWriter(path, storage) as writer:
        for topic, msg, stamp in messages:
            writer.write(topic, msg, stamp)
    return Path(path)
