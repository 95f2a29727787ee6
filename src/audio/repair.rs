//! Making a recording whole after its writer died (`kill -9`, a power cut): a WAV's header
//! carries its length, and a writer that never finished leaves the length of its last flush.
//! Recovery and the recorder's own close both call this, so no recorded answer is lost.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Makes a WAV whose writer died mid-recording whole: its header's sizes are set from what is
/// really on disk (trimmed to whole frames). Returns the seconds of audio it holds.
pub fn repair_wav_header(path: &Path) -> Result<f64> {
    let shown = path.display();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {shown}"))?;
    let file_len = file.metadata()?.len();
    let mut riff = [0u8; 12];
    file.read_exact(&mut riff)
        .ok()
        .filter(|()| &riff[0..4] == b"RIFF" && &riff[8..12] == b"WAVE")
        .with_context(|| format!("{shown} is not a WAV recording; it is kept as it is"))?;
    let mut offset = 12u64;
    let mut frame_bytes = 0u64;
    let mut byte_rate = 0u64;
    while offset + 8 <= file_len {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut chunk)?;
        let len = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        if &chunk[0..4] == b"fmt " {
            let mut fmt = [0u8; 16];
            file.read_exact(&mut fmt)?;
            byte_rate = u64::from(u32::from_le_bytes([fmt[8], fmt[9], fmt[10], fmt[11]]));
            frame_bytes = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
        } else if &chunk[0..4] == b"data" {
            anyhow::ensure!(
                frame_bytes > 0 && byte_rate > 0,
                "{shown} has no valid format chunk; it is kept as it is"
            );
            let data_start = offset + 8;
            let on_disk = file_len
                .saturating_sub(data_start)
                .min(u64::from(u32::MAX).saturating_sub(data_start));
            let whole = on_disk - on_disk % frame_bytes;
            if whole != len || data_start + whole != file_len {
                file.set_len(data_start + whole)?;
                file.seek(SeekFrom::Start(4))?;
                file.write_all(&((data_start + whole - 8) as u32).to_le_bytes())?;
                file.seek(SeekFrom::Start(offset + 4))?;
                file.write_all(&(whole as u32).to_le_bytes())?;
                file.sync_all()
                    .with_context(|| format!("cannot repair {shown}"))?;
            }
            return Ok(whole as f64 / byte_rate as f64);
        }
        offset += 8 + len + (len & 1);
    }
    anyhow::bail!("{shown} has no audio data chunk; it is kept as it is")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionRecord;

    #[test]
    fn a_recording_cut_off_mid_write_is_repaired_to_what_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let record = SessionRecord::create(dir.path()).unwrap();
        let mut wav = record.start_recording("answer-1.wav").unwrap();
        wav.append(&vec![0.25; 16_000]).unwrap();
        wav.append(&vec![0.25; 9_000]).unwrap();
        let path = record.dir().join("answer-1.wav");
        // What `kill -9` leaves: no finalize, buffered samples lost, header one flush behind.
        std::mem::forget(wav);
        let before = hound::WavReader::open(&path).unwrap().duration();
        assert_eq!(before, 16_000);
        let seconds = repair_wav_header(&path).unwrap();
        let after = hound::WavReader::open(&path).unwrap();
        let on_disk = (std::fs::metadata(&path).unwrap().len() - 44) / 2;
        assert_eq!(u64::from(after.duration()), on_disk);
        assert!(
            after.duration() > before,
            "{} <= {before}",
            after.duration()
        );
        assert!((seconds - f64::from(after.duration()) / 16_000.0).abs() < 1e-9);
        let samples: Vec<i16> = after.into_samples().map(|s| s.unwrap()).collect();
        assert!(samples.iter().all(|&s| s == 8_192));
    }

    #[test]
    fn a_file_that_is_not_a_wav_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answer-1.wav");
        std::fs::write(&path, b"not audio at all").unwrap();
        let error = repair_wav_header(&path).unwrap_err().to_string();
        assert!(error.contains("not a WAV"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not audio at all");
    }
}
