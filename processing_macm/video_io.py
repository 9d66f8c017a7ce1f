"""Video decoding and encoding with PyAV.

PyAV bundles its own FFmpeg, so this works where torchvision and torchcodec do not.
Decoding streams frame by frame: memory stays bounded by the frames that are kept, whatever the
length of the video. Frames come out upright: a rotation in the container's display matrix (phone
videos filmed in portrait) is applied, as players and the ffmpeg command line do.
"""

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .atomic import atomic_path


class VideoReadError(ValueError):
    """A video that cannot be used: missing, not a video, empty or corrupt. The message says which."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    num_frames: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps if self.fps > 0 else 0.0


def _open(path):
    import av

    path = os.fspath(path)
    if not os.path.exists(path):
        raise VideoReadError(f"Video file not found: {path!r}. Check the path.")
    if os.path.isdir(path):
        raise VideoReadError(f"{path!r} is a folder, not a video file.")
    try:
        container = av.open(path)
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as err:
        raise VideoReadError(
            f"{path!r} could not be opened as a video ({err}). Give an mp4/avi/mov/webm/mkv file."
        ) from err
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"{path!r} has no video stream (is it an audio or image file?).")
    return container


def _upright(frame) -> np.ndarray:
    """`[H, W, 3]` uint8 RGB of a PyAV frame, turned by its display rotation (degrees counter-clockwise)."""
    image = frame.to_ndarray(format="rgb24")
    turns = round(frame.rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def probe_video(path) -> VideoInfo:
    """Frame rate, frame count and upright size. The count comes from the container header when it has
    one, otherwise from counting the packets; the rotation from the first frame."""
    import av

    with _open(path) as container:
        try:
            first = next(container.decode(video=0), None)
        except av.error.FFmpegError as err:
            raise VideoReadError(f"{os.fspath(path)!r} is corrupt ({err}).") from err
        quarter_turned = first is not None and round(first.rotation / 90) % 2 == 1
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        num_frames = stream.frames
        if num_frames <= 0:
            try:
                num_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
            except av.error.FFmpegError as err:
                raise VideoReadError(f"{os.fspath(path)!r} is corrupt ({err}).") from err
        width, height = stream.codec_context.width, stream.codec_context.height
        if quarter_turned:
            width, height = height, width
        info = VideoInfo(os.fspath(path), fps, num_frames, width, height)
    if info.num_frames == 0:
        raise VideoReadError(f"{info.path!r} contains no frames.")
    return info


def iter_frames(path, max_fps: float | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yields `(index, time_s, frame [H, W, 3] uint8 RGB)` one decoded frame at a time.

    With `max_fps`, frames are dropped so that at most `max_fps` frames per second come out
    (`index` stays the index in the source). Raises `VideoReadError` for a corrupt stream and for a
    video that yields no frame at all.
    """
    import av

    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        next_time = 0.0
        count = 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                time_s = float(frame.time) if frame.time is not None else (index / fps if fps else 0.0)
                if max_fps is not None and time_s + 1e-6 < next_time:
                    continue
                next_time = time_s + 1.0 / max_fps if max_fps else 0.0
                count += 1
                yield index, time_s, _upright(frame)
        except av.error.FFmpegError as err:
            raise VideoReadError(f"{os.fspath(path)!r} is corrupt or truncated ({err}).") from err
    if count == 0:
        raise VideoReadError(f"{os.fspath(path)!r} contains no decodable frames.")


def prefetch(items: Iterator, depth: int = 8) -> Iterator:
    """Yields what `items` yields, produced `depth` ahead in a background thread, so that decoding overlaps
    with the consumer's work (PyAV and MediaPipe release the GIL). Errors reach the consumer in order."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()
    end = object()

    def produce():
        try:
            for item in items:
                if stopped.is_set():
                    return
                buffer.put((item, None))
            buffer.put((end, None))
        except BaseException as err:  # handed to the consumer, which raises it
            buffer.put((end, err))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item, err = buffer.get()
            if err is not None:
                raise err
            if item is end:
                return
            yield item
    finally:
        stopped.set()
        while thread.is_alive():  # unblock a producer waiting on a full buffer
            try:
                buffer.get_nowait()
            except queue.Empty:
                thread.join(0.01)


def sample_frame_indices(num_frames: int, num_samples: int) -> np.ndarray:
    """`num_samples` indices spread uniformly over `num_frames` (centres of equal segments).
    Repeats indices when the video is shorter than `num_samples`."""
    if num_frames <= 0:
        raise VideoReadError("Cannot sample frames from a video with no frames.")
    return np.minimum(((np.arange(num_samples) + 0.5) * num_frames / num_samples).astype(np.int64), num_frames - 1)


def read_video(path, num_frames: int | None = None) -> tuple[np.ndarray, VideoInfo]:
    """Decodes a video into `[N, H, W, 3]` uint8 RGB frames.

    With `num_frames`, keeps `num_frames` frames sampled uniformly (streaming: only those are kept in
    memory); without, keeps them all.
    """
    info = probe_video(path)
    wanted = None if num_frames is None else sample_frame_indices(info.num_frames, num_frames)
    kept: dict[int, np.ndarray] = {}
    last = None
    for index, _, frame in iter_frames(path):
        last = index
        if wanted is None or index in wanted:
            kept[index] = frame
        if wanted is not None and index >= wanted[-1]:
            break
    if wanted is None:
        return np.stack([kept[i] for i in sorted(kept)]), info
    # Header frame counts can overstate what decodes (truncated files): clamp to what was seen.
    frames = [kept[i] if i in kept else kept[max(k for k in kept if k <= i)] for i in np.minimum(wanted, last)]
    return np.stack(frames), info


def write_video(path, frames, fps: float, crf: int = 23) -> Path:
    """Encodes `[T, H, W, 3]` uint8 RGB frames (an array or any iterable of frames) as H.264 mp4.

    Writes to a temporary file beside `path` and renames it when complete, so that a failure never
    leaves a partial video under the final name. Odd sizes are padded to even (H.264 needs it).
    """
    import av

    with atomic_path(path) as tmp, av.open(str(tmp), mode="w") as container:
        stream = None
        for frame in frames:
            frame = np.ascontiguousarray(frame, dtype=np.uint8)
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"Frames must be [H, W, 3] RGB, got shape {frame.shape}.")
            pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
            if pad_h or pad_w:
                frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = frame.shape[1], frame.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf)}
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        if stream is None:
            raise ValueError("No frames to write.")
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)


__all__ = [
    "VideoInfo",
    "VideoReadError",
    "iter_frames",
    "prefetch",
    "probe_video",
    "read_video",
    "sample_frame_indices",
    "write_video",
]
