"""M-ACM in the browser: upload (or record) a clip, watch its motion caption stream in, with the body
overlay (keyframes marked) and the joint speeds over time beside it.

Runs as a Hugging Face Space (`python app.py`) or locally with `macm demo [--model PATH] [--port P]`.
The model comes from `--model`, else the `MACM_MODEL` environment variable, else the embedded "macm".
"""

import argparse
import copy
import functools
import os
import tempfile
import threading
import traceback
from functools import cache
from pathlib import Path

import gradio as gr
import numpy as np
from matplotlib.figure import Figure
from transformers import TextIteratorStreamer

from macm_cli.captioner import DEFAULT_MODEL, MACMCaptioner
from processing_macm import DEFAULT_PROMPT, VideoReadError, probe_video
from processing_macm.motion_track import SMPL_JOINT_NAMES
from processing_macm.overlay import write_overlay_video
from processing_macm.segments import BODY_PARTS, motion_window, timeline_lines, to_srt

MODEL_PATH = os.environ.get("MACM_MODEL", DEFAULT_MODEL)
MAX_SECONDS = 600.0  # a 10-minute clip is several minutes of pose on a 2-core CPU Space; longer ones wait too long
EXAMPLES_DIR = Path(__file__).parent / "examples"
MSD_ALPHA_DEFAULT = "0.5, 0.2, 0.4, 0.8, 0.3, 2.0"


@cache
def load_captioner(path: str) -> MACMCaptioner:
    """The model, its processor and the pose backend, loaded once per process."""
    return MACMCaptioner.from_pretrained(path)


def model_settings():
    """Page-load defaults from the model: its frame count, and its keyframe count (fixed for the overlay pathway)."""
    processor = load_captioner(MODEL_PATH).processor
    overlay = processor.motion_representation == "overlay"
    keyframes_info = (
        "fixed by this model: its overlay pathway reads exactly this many"
        if overlay
        else "marked in the overlay preview"
    )
    return (
        gr.Slider(value=processor.num_frames),
        gr.Slider(value=processor.num_keyframes, interactive=not overlay, info=keyframes_info),
        f"Model: `{MODEL_PATH}` ({processor.motion_representation} motion pathway; motion window "
        f"{motion_window(processor):g} s: longer clips are captioned in segments)",
    )


def check_video(video: str | None) -> None:
    """Raises `gr.Error` with what to do for a missing, unreadable or too long upload."""
    if not video:
        raise gr.Error("Upload a video (mp4, webm or mov) or record one with the webcam first.")
    try:
        info = probe_video(video)
    except VideoReadError as err:
        traceback.print_exc()  # the reader's detail names server paths: the log gets it, the visitor does not
        raise gr.Error(f"{Path(video).name} is not a readable video. Upload an mp4, webm or mov clip.") from err
    if info.duration > MAX_SECONDS:
        raise gr.Error(
            f"The clip is {info.duration:.0f} s long; this demo takes up to {MAX_SECONDS:.0f} s. Trim it and upload again."
        )


def parse_alpha(text: str) -> list[float]:
    try:
        alpha = [float(value) for value in text.replace(",", " ").split()]
    except ValueError:
        alpha = []
    if len(alpha) != 6:
        raise gr.Error(
            f"MSD α needs six numbers (α1..α6) separated by commas, e.g. {MSD_ALPHA_DEFAULT}; got {text!r}."
        )
    return alpha


def speed_plot(track, keyframes: list[int]) -> Figure:
    """Mean joint speed (m/s) of each body part over time, keyframes as dashed lines; gaps where nobody was found."""
    index = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
    speeds = np.linalg.norm(np.diff(track.joints_3d, axis=0), axis=-1) * track.fps  # [T-1, 22]
    speeds[~(track.valid[1:] & track.valid[:-1])] = np.nan
    times = track.times[1:]
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    for part, joints in BODY_PARTS.items():
        axes.plot(times, speeds[:, [index[name] for name in joints]].mean(axis=1), label=part)
    for k in keyframes:
        axes.axvline(track.times[k], color="goldenrod", linestyle="--", linewidth=1)
    axes.set(xlabel="time (s)", ylabel="mean joint speed (m/s)")
    axes.legend(loc="upper right", fontsize="small")
    return figure


def in_request_folder(fn):
    """Runs the generator `fn` with `workdir`, a temporary folder of the request's own, removed after the last
    output is sent (Gradio has copied the files it serves into its cache by then). Any failure reaches the page
    with its message: Gradio shows exceptions other than `gr.Error` as a bare "Error"."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with tempfile.TemporaryDirectory(prefix="macm-space-") as workdir:
            try:
                yield from fn(*args, workdir=Path(workdir), **kwargs)
            except gr.Error:
                raise
            except Exception as err:
                traceback.print_exc()  # for the server's log; the visitor gets the message
                raise gr.Error(" ".join(str(err).split()) or type(err).__name__) from err

    return run


@in_request_folder
def caption_video(
    video: str | None,
    use_motion: bool,
    decoding: str,
    msd_alpha: str,
    msd_beta: float,
    msd_theta: float,
    num_frames: int,
    num_keyframes: int,
    prompt: str,
    max_new_tokens: int,
    progress=gr.Progress(track_tqdm=True),
    *,
    workdir: Path | None = None,
):
    """Yields `(caption so far, overlay video, speed plot, notice, timeline, subtitles)`: motion first, then the
    caption token by token as it is generated, by any decoding (grounded: its greedy caption, replaced at the end
    where the motion heads veto it). A clip longer than the model's motion window is captioned segment by segment
    (progress shown), then its timeline and subtitles appear."""
    check_video(video)
    captioner = load_captioner(MODEL_PATH)
    options = dict(
        use_motion=use_motion,
        prompt=prompt.strip() or DEFAULT_PROMPT,
        decoding=decoding,
        max_new_tokens=int(max_new_tokens),
    )
    if decoding == "msd":
        options.update(msd_alpha=parse_alpha(msd_alpha), msd_beta=float(msd_beta), msd_theta=float(msd_theta))
    # A per-request processor copy carries this request's frame and keyframe counts: requests never see each other's.
    processor = copy.copy(captioner.processor)
    processor.num_frames, processor.num_keyframes = int(num_frames), int(num_keyframes)
    overlay_model = processor.motion_representation == "overlay"
    if use_motion and overlay_model and processor.num_keyframes != captioner.model.config.num_keyframes:
        raise gr.Error(
            f"This model's overlay pathway reads exactly {captioner.model.config.num_keyframes} keyframes; set Keyframes to that."
        )
    request = MACMCaptioner(captioner.model, processor, captioner.pose_backend)

    overlay, plot, track = None, None, None
    long_clip = probe_video(video).duration > motion_window(processor)
    notice = "Motion off: captioned from the video alone."
    if use_motion:
        try:
            track = request.estimate_motion(video, progress=long_clip)
        except VideoReadError as err:
            raise gr.Error(
                f"{Path(video).name} could not be decoded to the end. Re-encode it as H.264 mp4 and upload again."
            ) from err
        if track.has_person:
            # A long clip's keyframes are chosen per segment; over the whole clip they would say little.
            keyframes = [] if long_clip else processor.keyframe_indices(track).tolist()
            overlay = str(write_overlay_video(video, track, workdir / "overlay.mp4", keyframes, progress=False))
            plot = speed_plot(track, keyframes)
            times = ", ".join(f"{track.times[k]:.1f} s" for k in keyframes)
            notice = f"Motion used: the person was found in {track.valid.mean():.0%} of the frames; " + (
                "the clip is captioned segment by segment (timeline below)."
                if long_clip
                else f"keyframes (yellow border) at {times}."
            )
        else:
            notice = "⚠️ No person was found in this clip: it was captioned from the video alone."
    yield "", overlay, plot, notice, None, None

    if long_clip:
        # Segments are captioned in batches, which a token streamer cannot follow: the progress bar does.
        result = request(video, tracks=[track], progress=True, **options)
        rows = [
            [line.split("] ")[0] + "]", segment["caption"]]
            for line, segment in zip(timeline_lines(result.segments), result.segments)
        ]
    else:
        streamer = TextIteratorStreamer(processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
        outcome = {}

        def generate():
            try:
                outcome["result"] = request(video, tracks=[track], streamer=streamer, **options)
            except Exception as err:  # re-raised below, in the request's thread
                outcome["error"] = err
            finally:
                # A stated caption (nobody found, a still person) runs no generation, which would end the stream.
                streamer.end()

        thread = threading.Thread(target=generate)
        thread.start()
        text = ""
        for chunk in streamer:
            text += chunk
            yield (
                text,
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )  # the video and plot again per token cost more than the token
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        result, rows = outcome["result"], None
        if result.notice and track is not None and track.has_person:  # a caption stated, not generated: say why
            notice += f" The caption is stated, not described — {result.notice}."
    if result.described is not None:  # a question answered (its caption streamed above, for a short clip)
        notice += f" The answer is read from the video, its motion and the model's caption: “{result.described}”"
    yield result.caption, overlay, plot, notice, rows, write_subtitles(result.segments, workdir)


def write_subtitles(segments: list[dict], folder: Path) -> str:
    """The timeline as an .srt file to download (one cue per segment; a short clip is one cue)."""
    path = folder / "captions.srt"
    path.write_text(to_srt(segments), encoding="utf-8")
    return str(path)


# delete_cache: Gradio's own copies of uploads and served outputs older than an hour are removed every hour.
with gr.Blocks(title="M-ACM: fine-grained human-motion captioning", delete_cache=(3600, 3600)) as demo:
    gr.Markdown(
        "# M-ACM: fine-grained human-motion captioning\n"
        "Upload a clip of one person moving (up to 10 minutes) or record one. The pose is estimated with MediaPipe, "
        "drawn over the video (yellow border: the keyframes the motion pathway sees) and the caption streams in. "
        "A clip longer than the model's motion window (below) is cut into 2–10 s segments where the movement "
        "changes, each captioned: a timeline and subtitles (.srt) follow. On a 2-core CPU a 10-minute clip takes "
        "a few minutes, most of it pose estimation.\n\n"
        "**What the built-in model can describe.** The default model (`macm`, unless the Space sets another) is a "
        "2.7M-parameter model trained only on synthetic clips (HMI-Synth): one person, one short action after "
        "another. On held-out synthetic clips it names the actions and their order well; repetition counts and "
        "speeds are close to guesses, and it has never seen a real video: for real footage, scenes, objects or "
        "several people its captions are not to be trusted. The clothes' colours are read from the video where the "
        "pose puts them, and questions about the movements, the clothes, how much of the body is visible or why the "
        "person moves are answered by reading the motion and the caption. With motion on, only one person is "
        "followed."
    )
    model_info = gr.Markdown()
    with gr.Row():
        with gr.Column():
            video = gr.Video(label="Video", sources=["upload", "webcam"])
            # Empty: the caption; a question ("How many times does the person squat?"): its answer.
            prompt = gr.Textbox(label="Question (optional)", value="", placeholder="Leave empty for a caption, or ask e.g. "
                                "“How many times does the person squat?” or “What colour is the person's shirt?”")  # fmt: skip
            with gr.Row():
                use_motion = gr.Checkbox(label="Use motion", value=True)
                decoding = gr.Radio(
                    ["grounded", "greedy", "msd"], value="grounded", label="Decoding",
                    info="grounded: greedy, unless it names an action the motion does not show; msd: Motion Synergetic Decoding",
                )  # fmt: skip
            with gr.Accordion("MSD settings", open=False):
                msd_alpha = gr.Textbox(label="α1..α6", value=MSD_ALPHA_DEFAULT)
                msd_beta = gr.Slider(0.0, 1.0, value=0.2, step=0.05, label="β (plausibility cut-off)")
                msd_theta = gr.Slider(0.0, 5.0, value=2.0, step=0.1, label="θ (weight of the synergy score)")
            with gr.Row():
                num_frames = gr.Slider(1, 32, value=8, step=1, label="Frames", info="sampled uniformly from the clip")
                num_keyframes = gr.Slider(1, 16, value=4, step=1, label="Keyframes")
            max_new_tokens = gr.Slider(8, 256, value=96, step=8, label="Max new tokens")
            run = gr.Button("Caption", variant="primary")
        with gr.Column():
            caption = gr.Textbox(
                label="Caption (or the answer to the question)", lines=5, buttons=["copy"], elem_id="caption"
            )
            notice = gr.Markdown(label="Notice")
            overlay = gr.Video(label="Pose overlay (keyframes marked)", interactive=False, elem_id="overlay")
            plot = gr.Plot(label="Joint speeds: which body parts moved when (dashed: keyframes)")
            timeline = gr.Dataframe(
                headers=["time", "caption"],
                label="Timeline (long clips: one row per segment)",
                wrap=True,
                interactive=False,
            )
            subtitles = gr.File(label="Subtitles (.srt)")
    inputs = [
        video,
        use_motion,
        decoding,
        msd_alpha,
        msd_beta,
        msd_theta,
        num_frames,
        num_keyframes,
        prompt,
        max_new_tokens,
    ]
    outputs = [caption, overlay, plot, notice, timeline, subtitles]
    gr.Examples(
        examples=[[str(path)] for path in sorted(EXAMPLES_DIR.glob("*.mp4"))],
        inputs=[video],
        label="HMI-Synth clips",
    )
    # One caption at a time: generation already uses every core, and the queue shows the others their place.
    run.click(caption_video, inputs, outputs, api_name="caption", concurrency_limit=1)
    demo.load(model_settings, None, [num_frames, num_keyframes, model_info], api_visibility="private")
demo.queue(max_size=32)


def main(argv: list[str] | None = None) -> None:
    global MODEL_PATH
    parser = argparse.ArgumentParser(prog="macm demo", description="Run the M-ACM Gradio demo locally.")
    parser.add_argument(
        "--model", default=MODEL_PATH, help="M-ACM checkpoint folder (default: $MACM_MODEL or the embedded model)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port on 127.0.0.1 (default: Gradio's, 7860 or the next free one)"
    )
    args = parser.parse_args(argv)
    MODEL_PATH = args.model
    load_captioner(MODEL_PATH)  # fail fast on a bad path, and spare the first visitor the load
    demo.launch(server_port=args.port)  # 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise (a Space sets it)


if __name__ == "__main__":
    main()
