"""Write the two Word documents of the Vietnamese dev corpus (and their English translation).

The admission regulation of a (fictional) university is the corpus's DOCX: real Word
headings, paragraphs and two tables (majors with quotas and subject combinations; priority
points and tuition), so DOCX table extraction is measured on Vietnamese text too. The content
lives here, in one place, so the Vietnamese and English files cannot drift apart.

    .venv/bin/python bench/devsets/make_vi_docx.py
"""

from __future__ import annotations

from pathlib import Path

import docx

HERE = Path(__file__).resolve().parent
Section = tuple[str, list[str | list[list[str]]]]  # heading, then paragraphs or tables (rows of cells)

VI: tuple[str, list[Section]] = (
    "Quy chế tuyển sinh đại học chính quy năm 2025 - Trường Đại học Kỹ thuật Long Giang",
    [
        ("Điều 1. Phạm vi và đối tượng", [
            "Quy chế này áp dụng cho tuyển sinh trình độ đại học hệ chính quy năm 2025 của Trường Đại học Kỹ thuật "
            "Long Giang (mã trường: LGT). Đối tượng dự tuyển là người đã tốt nghiệp trung học phổ thông (THPT) hoặc "
            "tương đương, có đủ sức khỏe để học tập theo quy định.",
        ]),
        ("Điều 2. Phương thức xét tuyển và chỉ tiêu", [
            "Tổng chỉ tiêu năm 2025 là 2.450 sinh viên, phân bổ theo ba phương thức: Phương thức 1 - xét điểm thi tốt "
            "nghiệp THPT năm 2025 (60% chỉ tiêu); Phương thức 2 - xét kết quả học tập THPT (học bạ) của cả năm lớp 10, "
            "lớp 11 và lớp 12 (30% chỉ tiêu); Phương thức 3 - xét tuyển thẳng và ưu tiên xét tuyển theo quy định của "
            "Bộ Giáo dục và Đào tạo (10% chỉ tiêu).",
            "Chỉ tiêu, tổ hợp xét tuyển và ngưỡng điểm nhận hồ sơ (điểm sàn, thang 30) của từng ngành như sau:",
            [
                ["Mã ngành", "Tên ngành", "Chỉ tiêu", "Tổ hợp xét tuyển", "Điểm sàn"],
                ["7480201", "Công nghệ thông tin", "500", "A00, A01, D01", "21,00"],
                ["7520201", "Kỹ thuật điện", "300", "A00, A01", "18,50"],
                ["7510205", "Công nghệ kỹ thuật ô tô", "350", "A00, A01, D07", "19,00"],
                ["7340101", "Quản trị kinh doanh", "400", "A00, A01, D01", "18,00"],
                ["7580201", "Kỹ thuật xây dựng", "250", "A00, A01", "17,00"],
                ["7540101", "Công nghệ thực phẩm", "200", "A00, B00, D07", "17,50"],
                ["7220201", "Ngôn ngữ Anh", "450", "D01, D14", "20,00"],
            ],
        ]),
        ("Điều 3. Điểm ưu tiên và học phí", [
            "Điểm ưu tiên khu vực được cộng vào tổng điểm xét tuyển; từ năm 2025, thí sinh đạt tổng điểm từ 22,5 trở "
            "lên được hưởng điểm ưu tiên giảm dần theo quy định của Bộ. Học phí dự kiến năm học 2025-2026:",
            [
                ["Nội dung", "Mức áp dụng"],
                ["Khu vực 1 (KV1)", "+0,75 điểm"],
                ["Khu vực 2 - nông thôn (KV2-NT)", "+0,50 điểm"],
                ["Khu vực 2 (KV2)", "+0,25 điểm"],
                ["Khu vực 3 (KV3)", "không cộng điểm"],
                ["Học phí khối ngành kỹ thuật, công nghệ", "24.500.000 đồng/năm"],
                ["Học phí khối ngành kinh tế, ngôn ngữ", "21.000.000 đồng/năm"],
            ],
        ]),
        ("Điều 4. Lịch tuyển sinh", [
            "Thí sinh đăng ký nguyện vọng trên hệ thống tuyển sinh của Bộ Giáo dục và Đào tạo từ ngày 16/7 đến 17h00 "
            "ngày 28/7/2025. Trường công bố kết quả trúng tuyển trước 17h00 ngày 19/8/2025. Thí sinh trúng tuyển xác "
            "nhận nhập học trực tuyến trước 17h00 ngày 30/8/2025; quá hạn này được xem là từ chối nhập học.",
        ]),
        ("Điều 5. Lệ phí và học bổng", [
            "Lệ phí xét tuyển theo phương thức 2 (học bạ) là 30.000 đồng/nguyện vọng, nộp trực tuyến. Thủ khoa của "
            "mỗi ngành được miễn 100% học phí năm thứ nhất; thí sinh trúng tuyển có tổng điểm từ 27 trở lên (chưa "
            "cộng điểm ưu tiên) được học bổng bằng 50% học phí năm thứ nhất.",
            "Mọi thắc mắc liên hệ Phòng Đào tạo, điện thoại 0275 3811 225, email tuyensinh@lgt.edu.vn.",
        ]),
    ],
)

EN: tuple[str, list[Section]] = (
    "Regulation on full-time undergraduate admission 2025 - Long Giang University of Technology",
    [
        ("Article 1. Scope and applicants", [
            "This regulation applies to full-time undergraduate admission in 2025 at Long Giang University of "
            "Technology (institution code: LGT). Applicants must have graduated from upper secondary school or "
            "equivalent and be in good enough health to study as required.",
        ]),
        ("Article 2. Admission methods and quotas", [
            "The total quota for 2025 is 2,450 students, allocated to three methods: Method 1 - the 2025 upper "
            "secondary graduation exam scores (60% of the quota); Method 2 - the upper secondary school record "
            "(transcript) of grades 10, 11 and 12 (30% of the quota); Method 3 - direct admission and priority "
            "admission under the rules of the Ministry of Education and Training (10% of the quota).",
            "The quota, subject combinations and minimum scores for applications (floor score, out of 30) of each "
            "programme are:",
            [
                ["Programme code", "Programme", "Quota", "Subject combinations", "Floor score"],
                ["7480201", "Information Technology", "500", "A00, A01, D01", "21.00"],
                ["7520201", "Electrical Engineering", "300", "A00, A01", "18.50"],
                ["7510205", "Automotive Engineering Technology", "350", "A00, A01, D07", "19.00"],
                ["7340101", "Business Administration", "400", "A00, A01, D01", "18.00"],
                ["7580201", "Civil Engineering", "250", "A00, A01", "17.00"],
                ["7540101", "Food Technology", "200", "A00, B00, D07", "17.50"],
                ["7220201", "English Language", "450", "D01, D14", "20.00"],
            ],
        ]),
        ("Article 3. Priority points and tuition", [
            "Regional priority points are added to the total admission score; from 2025, applicants with a total of "
            "22.5 or more receive reduced priority points as set by the Ministry. Expected tuition for the 2025-2026 "
            "academic year:",
            [
                ["Item", "Amount"],
                ["Region 1 (KV1)", "+0.75 points"],
                ["Region 2 - rural (KV2-NT)", "+0.50 points"],
                ["Region 2 (KV2)", "+0.25 points"],
                ["Region 3 (KV3)", "no points added"],
                ["Tuition, engineering and technology programmes", "24,500,000 VND/year"],
                ["Tuition, economics and language programmes", "21,000,000 VND/year"],
            ],
        ]),
        ("Article 4. Admission calendar", [
            "Applicants register their choices on the admission system of the Ministry of Education and Training "
            "from 16/7 until 17:00 on 28/7/2025. The university announces the results before 17:00 on 19/8/2025. "
            "Admitted applicants confirm enrolment online before 17:00 on 30/8/2025; missing this deadline counts as "
            "declining admission.",
        ]),
        ("Article 5. Fees and scholarships", [
            "The application fee for Method 2 (school record) is 30,000 VND per choice, paid online. The top-scoring "
            "applicant of each programme is exempt from 100% of first-year tuition; admitted applicants with a total "
            "of 27 or more (before priority points) receive a scholarship of 50% of first-year tuition.",
            "For questions contact the Academic Affairs Office, phone 0275 3811 225, email tuyensinh@lgt.edu.vn.",
        ]),
    ],
)


def write(path: Path, content: tuple[str, list[Section]]) -> None:
    """One Word document: a title, then each section's heading, paragraphs and tables."""
    title, sections = content
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for heading, parts in sections:
        document.add_heading(heading, level=2)
        for part in parts:
            if isinstance(part, str):
                document.add_paragraph(part)
                continue
            table = document.add_table(rows=len(part), cols=len(part[0]))
            table.style = "Table Grid"
            for row, cells in zip(table.rows, part):
                for cell, text in zip(row.cells, cells):
                    cell.text = text
    document.save(str(path))


def main() -> None:
    write(HERE / "vi_corpus" / "quy-che-tuyen-sinh-2025.docx", VI)
    write(HERE / "vi_en_corpus" / "quy-che-tuyen-sinh-2025.en.docx", EN)
    print("wrote quy-che-tuyen-sinh-2025.docx and .en.docx")


if __name__ == "__main__":
    main()
