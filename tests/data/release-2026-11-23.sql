BEGIN TRANSACTION;
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	sub VARCHAR(200) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	action VARCHAR(60) NOT NULL, 
	participant_id VARCHAR(40), 
	opening_id VARCHAR(40), 
	detail TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "audit_log" VALUES(1,'2026-11-29 20:15:08.322137','adviser@old','adviser','read_profile',NULL,NULL,'from the release before migrations');
INSERT INTO "audit_log" VALUES(2,'2026-11-29 20:15:08.322730','adviser@old','adviser','read_matches','P-000001',NULL,'run=x kind=any');
CREATE TABLE data_version (
	id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "data_version" VALUES(1,52);
CREATE TABLE employers (
	orgnr VARCHAR(9) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	nace VARCHAR(6) NOT NULL, 
	nace_section VARCHAR(1) NOT NULL, 
	postal_code VARCHAR(4) NOT NULL, 
	lat FLOAT NOT NULL, 
	lon FLOAT NOT NULL, 
	office_id VARCHAR(40) NOT NULL, 
	adaptations_offered JSON NOT NULL, 
	inclusive_workplace_agreement BOOLEAN NOT NULL, 
	past_trial_placements INTEGER NOT NULL, 
	past_hires_after_trial INTEGER NOT NULL, 
	contact_name VARCHAR(200), 
	contact_email VARCHAR(200), 
	PRIMARY KEY (orgnr), 
	FOREIGN KEY(office_id) REFERENCES offices (office_id)
);
INSERT INTO "employers" VALUES('927513021','Rent & Pent Saupstad','81.210','N','7098',63.3689,10.3568,'nav-heimdal','["SNAKKE", "STILLE_OG_ROLIG_MILJ\u00d8", "TUNGE_L\u00d8FT"]',1,8,5,'Ola Olsen','ola.olsen@rentpentsaupstad.example.no');
INSERT INTO "employers" VALUES('915973450','Flatåsen Bygg AS','41.200','F','7079',63.377,10.3375,'nav-heimdal','["ARBEIDSSTILLING", "OPPL\u00c6RING", "UNIVERSELL_UTFORMING"]',1,9,5,'Tor Rønning','tor.ronning@flatasenbyggas.example.no');
INSERT INTO "employers" VALUES('914035260','Heimdal Bud AS','53.200','H','7072',63.3517,10.365,'nav-heimdal','[]',0,2,0,'Ola Hansen','ola.hansen@heimdalbudas.example.no');
INSERT INTO "employers" VALUES('907690687','Spongdal Telesalg AS','82.202','N','7074',63.3556,10.1664,'nav-heimdal','["BORTE_FASTE_DAGER_ELLER_TIDER"]',0,0,0,'Jon Strand','jon.strand@spongdaltelesalgas.example.no');
INSERT INTO "employers" VALUES('986912436','Heimdal Elektriske AS','43.210','F','7088',63.3561,10.348,'nav-heimdal','["TUNGE_L\u00d8FT"]',0,6,1,'Siri Nguyen','siri.nguyen@heimdalelektriskeas.example.no');
INSERT INTO "employers" VALUES('944505229','Hotell Heimdal','55.101','I','7089',63.3539,10.3105,'nav-heimdal','[]',0,3,0,'Ali Berg','ali.berg@hotellheimdal.example.no');
INSERT INTO "employers" VALUES('913804457','Sjetnemarka Grill','56.102','I','7081',63.3693,10.3965,'nav-heimdal','["TUNGE_L\u00d8FT"]',0,1,0,'Liv Strand','liv.strand@sjetnemarkagrill.example.no');
INSERT INTO "employers" VALUES('930556637','Heimdal Restaurant','56.101','I','7089',63.3539,10.3105,'nav-heimdal','["TUNGE_L\u00d8FT"]',0,1,0,'Jonas Nguyen','jonas.nguyen@heimdalrestaurant.example.no');
INSERT INTO "employers" VALUES('946716324','Flatåsen naturbarnehage','88.911','Q','7099',63.3761,10.3505,'nav-heimdal','["IKKE_HELE_DAGER"]',1,6,0,'Per Lie','per.lie@flatasennaturbarnehage.example.no');
INSERT INTO "employers" VALUES('969267055','Kafé Klæbu','56.101','I','7540',63.2976,10.4826,'nav-heimdal','[]',0,2,2,'Fatima Lie','fatima.lie@kafeklaebu.example.no');
INSERT INTO "employers" VALUES('940855578','Flatåsen Logistikk AS','52.100','H','7079',63.377,10.3375,'nav-heimdal','["ERGONOMI", "FLEKSIBEL"]',0,2,2,'Sara Krogstad','sara.krogstad@flatasenlogistikkas.example.no');
INSERT INTO "employers" VALUES('933757714','Byåsen naturbarnehage','88.911','Q','7026',63.3855,10.3303,'nav-heimdal','["LESE"]',0,2,1,'Ali Ahmed','ali.ahmed@byasennaturbarnehage.example.no');
INSERT INTO "employers" VALUES('907568547','Tiller Godstransport AS','49.410','H','7075',63.376414,10.383803,'nav-heimdal','[]',0,3,0,'Hanne Nguyen','hanne.nguyen@tillergodstransportas.example.no');
INSERT INTO "employers" VALUES('975335380','Tiller Vaktmesterservice AS','68.320','L','7092',63.3516,10.385,'nav-heimdal','[]',0,4,1,'Ola Krogstad','ola.krogstad@tillervaktmesterservicea.example.no');
INSERT INTO "employers" VALUES('918166335','Klesbutikken Tiller','47.710','G','7091',63.3619,10.3898,'nav-heimdal','[]',1,8,4,'Ali Rønning','ali.ronning@klesbutikkentiller.example.no');
CREATE TABLE offices (
	office_id VARCHAR(40) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	municipality_code VARCHAR(4) NOT NULL, 
	postal_code VARCHAR(4) NOT NULL, 
	PRIMARY KEY (office_id)
);
INSERT INTO "offices" VALUES('nav-heimdal','NAV Heimdal','5001','7080');
CREATE TABLE opening_lists (
	run_id VARCHAR(40) NOT NULL, 
	opening_id VARCHAR(40) NOT NULL, 
	participant_ids TEXT NOT NULL, 
	scores BLOB NOT NULL, 
	levels BLOB NOT NULL, 
	PRIMARY KEY (run_id, opening_id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id)
);
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00003','["P-000061","P-000007","P-000001","P-000032","P-000020","P-000012","P-000056","P-000024"]',X'FE2B12F77E82DF3F9B3495A79A87D73F1CB7CBE3A083CA3F1CB7CBE3A083CA3F4D663D8D073ACA3FAF7CD852F06CC13F635D9EB2C43AC13F5A39A367CBB2C03F',X'040300020302000202010202030304040302000202010201010000020302020202010201010000020302020202010201010300020202020202010201000000000202020202010200010000000300000202010201000000000302000202010201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00004','["P-000007","P-000061","P-000001","P-000032","P-000012","P-000024","P-000020","P-000056"]',X'7F50FB7463A9E13F26F695E1BE47D43F2F281FDADE36C53F2F281FDADE36C53F717CECAA5AE9C33F34EB8B9D3D19C33F72D691CF257AC23F635D9EB2C43AC13F',X'040304040302020202010201030200000302000202010202000000000302020202010201000000000302020202010201010000000202020202010200010000000302000202010201000200000202020202010201010000000300000202010201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00027','["P-000020","P-000056","P-000001","P-000032","P-000012","P-000024","P-000061","P-000007"]',X'210B304C5DB0D33F649CC67AFB1BD23F947F23F6781FC83F947F23F6781FC83F69D6A49E6BF3C73F34EB8B9D3D19C33F854F1180B0F4C23FB019B5E53D94C13F',X'020000000202020202000201020200000300000202000201010000000302020202000201010000000302020202000201010000000302020202000200010000000302000202000201010000000302000202000200000200000302000202000201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00030','["P-000061","P-000056","P-000008","P-000064","P-000032","P-000033"]',X'6F9BEC1CAA64CF3FE6CFBF108944C43F70AD08434493C23F20952A3466F4B83FC6D7880E6B02AE3F7E5B514774CCA73F',X'030200000102000202020202010000000300000202020201010000000202000202020201010000000100000202020200000000000002020202020201010000000000000202020201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00036','["P-000001","P-000007","P-000056"]',X'62B8CA70E15AC03FD4DAE88DF5F0B73FAD4AB93F2A79B53F',X'000000000302020202000101000000000302020200000101000000000300000201000101');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00038','["P-000056","P-000007"]',X'DEE3E696B146BC3F1DC8ADEBD076B83F',X'000000000300000201000201000000000302000200000201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00052','["P-000061","P-000008","P-000032","P-000012","P-000067","P-000056","P-000064","P-000033"]',X'FE2B12F77E82DF3F9487B003BCB5D93F210B304C5DB0D33F454FC7B424A4D13F573026D4E802C93F34EB8B9D3D19C33F854F1180B0F4C23FDB2E464D63A3B13F',X'040300040302000202010202020300040302010202010201020000000202020202010201030204040102020202010200020100000102000202010201010000000301000202010201010000000302000202010200010000000301000002010201');
INSERT INTO "opening_lists" VALUES('20261129T201508-8723ba','O-00073','["P-000001","P-000007","P-000056"]',X'0817A6CD2FBAD73F5A39A367CBB2C03F4960B4804E10BE3F',X'020200000302020202000201000000000302000202000201000000000300000202000201');
CREATE TABLE openings (
	opening_id VARCHAR(40) NOT NULL, 
	orgnr VARCHAR(9) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	styrk08 VARCHAR(4) NOT NULL, 
	styrk08_source VARCHAR(12) NOT NULL, 
	required_skills JSON NOT NULL, 
	optional_skills JSON NOT NULL, 
	required_licences JSON NOT NULL, 
	min_norwegian VARCHAR(12) NOT NULL, 
	min_education VARCHAR(20) NOT NULL, 
	hours_per_week FLOAT NOT NULL, 
	positions INTEGER NOT NULL, 
	postal_code VARCHAR(4) NOT NULL, 
	lat FLOAT NOT NULL, 
	lon FLOAT NOT NULL, 
	start_date DATE, 
	deadline DATE, 
	status VARCHAR(8) NOT NULL, 
	adaptations_offered JSON NOT NULL, 
	office_id VARCHAR(40) NOT NULL, 
	published_at DATE NOT NULL, 
	PRIMARY KEY (opening_id), 
	FOREIGN KEY(orgnr) REFERENCES employers (orgnr), 
	FOREIGN KEY(office_id) REFERENCES offices (office_id)
);
INSERT INTO "openings" VALUES('O-00003','933757714','job','Kantinemedarbeider','9412','normalised','["esco:0ff99f51", "esco:c747ab82"]','["esco:23b355ee", "esco:34a80161", "esco:555d83ff"]','[]','A2','none',37.5,2,'7088',63.3561,10.348,'2026-12-11',NULL,'open','[]','nav-heimdal','2026-10-23');
INSERT INTO "openings" VALUES('O-00004','913804457','job','Institusjonskokk','5120','given','["esco:c42d2a2a"]','["esco:47d286a7", "esco:51a26193", "esco:73b97efd"]','[]','A2','none',37.5,1,'7088',63.3561,10.348,'2027-03-06','2027-02-10','open','[]','nav-heimdal','2026-10-16');
INSERT INTO "openings" VALUES('O-00007','915973450','job','Innredningsmontør','7115','normalised','["esco:86df7af2", "esco:c643e59b"]','[]','[]','B2','vocational',37.5,2,'7079',63.377,10.3375,'2026-01-21','2025-12-28','filled','["PERSONLIG_BISTAND", "TUNGE_L\u00d8FT"]','nav-heimdal','2025-11-21');
INSERT INTO "openings" VALUES('O-00014','940855578','trial','Terminalarbeider (lager)','4321','given','["esco:1973c966", "esco:05fe02a3", "esco:1f857013", "esco:20f013ea"]','[]','["B"]','A1','none',37.5,1,'7079',63.377,10.3375,'2025-09-13',NULL,'filled','["BORTE_FASTE_DAGER_ELLER_TIDER", "GRADVIS_\u00d8KNING", "SKRIVE"]','nav-heimdal','2025-08-27');
INSERT INTO "openings" VALUES('O-00018','940855578','job','Pakker (for hånd)','9321','given','["esco:54d68400", "esco:8babf8e3", "esco:a15e06f6"]','[]','[]','A1','none',30.0,1,'7079',63.377,10.3375,'2026-08-22',NULL,'filled','[]','nav-heimdal','2026-07-05');
INSERT INTO "openings" VALUES('O-00022','944505229','job','Forpleiningsassistent','9112','normalised','["esco:00ec5333", "esco:09dea77e", "esco:75dfe1ee", "esco:d05ae693", "esco:bb62b926"]','["esco:58a15a33", "esco:adf661fe"]','[]','A1','none',26.25,2,'7089',63.3539,10.3105,'2025-07-12','2025-06-06','closed','[]','nav-heimdal','2025-05-06');
INSERT INTO "openings" VALUES('O-00023','930556637','trial','Kantinemedarbeider','9412','normalised','["esco:c747ab82"]','["esco:23b355ee", "esco:39a8498f", "esco:50db2b5e"]','["B"]','A2','none',37.5,2,'7089',63.3539,10.3105,'2025-02-03','2025-09-30','filled','["IKKE_HELE_DAGER"]','nav-heimdal','2024-12-30');
INSERT INTO "openings" VALUES('O-00025','940855578','job','Truckfører','8344','given','["esco:0256f6b0", "esco:02e235f4", "esco:078861f5", "esco:0a43729f"]','["esco:f5798f9c"]','[]','A2','none',37.5,1,'7079',63.377,10.3375,'2025-07-02','2025-06-10','filled','["IKKE_HELE_DAGER", "OPPGAVER", "OPPL\u00c6RING"]','nav-heimdal','2025-04-04');
INSERT INTO "openings" VALUES('O-00027','914035260','job','Håndpakker','9321','given','["esco:00e895f4", "esco:27536739", "esco:6fcf2fc7", "esco:a15e06f6", "esco:ab2bb44a"]','[]','[]','A2','none',37.5,2,'7072',63.3517,10.365,'2027-04-06','2027-02-23','open','[]','nav-heimdal','2026-10-04');
INSERT INTO "openings" VALUES('O-00030','969267055','trial','Pizzakokk (arbeidstrening)','5120','given','["esco:9ccd8da7", "esco:bb84d739", "esco:c747ab82"]','["esco:728cd984", "esco:555d83ff", "esco:5c6ca864"]','[]','none','none',37.5,1,'7540',63.2976,10.4826,'2026-04-17',NULL,'open','[]','nav-heimdal','2026-03-31');
INSERT INTO "openings" VALUES('O-00036','986912436','job','Elektriker','7411','normalised','["esco:1de6b87b", "esco:a99c6783"]','["esco:2bbdea06", "esco:334e3e49"]','["B"]','B2','vocational',37.5,2,'7088',63.3561,10.348,'2026-12-18','2026-12-10','open','[]','nav-heimdal','2026-11-14');
INSERT INTO "openings" VALUES('O-00038','907568547','job','Trailersjåfør','8332','given','["esco:be0afbfa", "esco:2a82241a", "esco:36404bb8"]','[]','["C", "CE"]','A2','vocational',37.5,1,'7075',63.376414,10.383803,'2026-09-25',NULL,'open','[]','nav-heimdal','2026-08-02');
INSERT INTO "openings" VALUES('O-00040','933757714','job','Skolefritidsassistent','5311','given','["esco:493a1805"]','["esco:256d1577", "esco:28ca596e"]','[]','B2','none',26.25,1,'7016',63.4236,10.4081,'2026-07-26','2026-06-19','filled','["BORTE_FASTE_DAGER_ELLER_TIDER", "ERGONOMI", "PERSONLIG_BISTAND"]','nav-heimdal','2026-04-14');
INSERT INTO "openings" VALUES('O-00041','927513021','job','Forpleiningsassistent','9112','normalised','["esco:bef359eb", "esco:cc948c21", "esco:d05ae693", "esco:3573a4e0"]','["esco:51a26193"]','[]','A2','none',37.5,1,'7098',63.3689,10.3568,'2026-10-03',NULL,'filled','[]','nav-heimdal','2026-08-03');
INSERT INTO "openings" VALUES('O-00043','944505229','trial','Resepsjonist','4224','normalised','["esco:0ff99f51", "esco:26a6e6d2", "esco:350c932d", "esco:b6b2e665", "esco:13e2378e"]','["esco:45f3857b", "esco:13e2378e"]','[]','none','none',26.25,1,'7089',63.3539,10.3105,'2025-08-28',NULL,'filled','["ARBEIDSSTILLING"]','nav-heimdal','2025-07-23');
INSERT INTO "openings" VALUES('O-00050','918166335','job','Butikkmedarbeider','5223','normalised','["esco:fb3bc9b5", "esco:2b69525c"]','["esco:a5b0cd5c", "esco:1acc3692", "esco:1b10c3de"]','[]','B1','none',37.5,2,'7091',63.3619,10.3898,'2026-10-05',NULL,'filled','["GRADVIS_\u00d8KNING", "TUNGE_L\u00d8FT"]','nav-heimdal','2026-08-17');
INSERT INTO "openings" VALUES('O-00052','930556637','trial','Kafemedarbeider (servering)','5246','given','["esco:415abd43"]','["esco:1493adef"]','[]','A2','none',18.75,1,'7089',63.3539,10.3105,'2026-06-06',NULL,'open','["SNAKKE"]','nav-heimdal','2026-05-24');
INSERT INTO "openings" VALUES('O-00053','907568547','job','Trailersjåfør','8332','given','["esco:be0afbfa", "esco:144318ce", "esco:36404bb8", "esco:48f480aa", "esco:509ff122"]','[]','["C", "CE"]','B1','vocational',37.5,1,'7075',63.376414,10.383803,'2026-09-27','2026-09-10','filled','["FLEKSIBEL", "SKRIVE", "SNAKKE"]','nav-heimdal','2026-08-20');
INSERT INTO "openings" VALUES('O-00055','940855578','job','Lagermedarbeider','4321','given','["esco:1973c966", "esco:0c944316"]','["esco:5d2e82cc"]','[]','B1','none',30.0,1,'7079',63.377,10.3375,'2026-09-27',NULL,'closed','[]','nav-heimdal','2026-07-25');
INSERT INTO "openings" VALUES('O-00058','975335380','trial','Ambulerende vaktmester','5153','given','["esco:1008da30", "esco:28d715e3", "esco:7d7221d4"]','["esco:7bb01a18"]','["B"]','none','none',20.0,1,'7092',63.3516,10.385,'2025-10-19',NULL,'closed','[]','nav-heimdal','2025-10-08');
INSERT INTO "openings" VALUES('O-00062','946716324','job','Barnehageassistent','5311','given','["esco:493a1805"]','["esco:1c6736c2", "esco:7b34134b"]','[]','B1','none',22.5,1,'7099',63.3761,10.3505,'2026-02-22','2026-02-06','filled','[]','nav-heimdal','2025-12-01');
INSERT INTO "openings" VALUES('O-00063','944505229','job','Servitør','5131','given','["esco:44773391", "esco:d9895150", "esco:e54ff029", "esco:02f115d8", "esco:0cc9c234"]','["esco:131d6a9e", "esco:936a42f0"]','[]','B2','none',37.5,2,'7089',63.3539,10.3105,'2026-03-26','2026-03-17','filled','[]','nav-heimdal','2026-02-17');
INSERT INTO "openings" VALUES('O-00069','940855578','job','Lagerarbeider','4321','normalised','["esco:118c43e1"]','["esco:1973c966"]','[]','B1','none',37.5,1,'7058',63.4239,10.4927,'2025-08-27','2025-07-20','filled','["SNAKKE"]','nav-heimdal','2025-06-03');
INSERT INTO "openings" VALUES('O-00073','914035260','job','Varebilsjåfør','8322','normalised','["esco:be0afbfa", "esco:ab2bb44a", "esco:2815f65d"]','["esco:5924a1a6"]','["B"]','A2','none',37.5,2,'7072',63.3517,10.365,'2027-02-12','2027-02-05','open','["BORTE_FASTE_DAGER_ELLER_TIDER", "OPPL\u00c6RING"]','nav-heimdal','2026-11-13');
INSERT INTO "openings" VALUES('O-00077','907690687','trial','Kundesentermedarbeider (arbeidstrening)','4222','given','["esco:1585fc98", "esco:fb3bc9b5", "esco:03b9b491", "esco:0b144726", "esco:0e161427"]','["esco:118efbcd", "esco:2aed5d29", "esco:378caeec"]','[]','A1','none',37.5,1,'7074',63.3556,10.1664,'2025-08-07',NULL,'filled','[]','nav-heimdal','2025-06-26');
CREATE TABLE outcomes (
	event_id VARCHAR(64) NOT NULL, 
	participant_id VARCHAR(40) NOT NULL, 
	opening_id VARCHAR(40) NOT NULL, 
	event VARCHAR(32) NOT NULL, 
	reason TEXT, 
	occurred_at DATETIME NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	PRIMARY KEY (event_id), 
	FOREIGN KEY(participant_id) REFERENCES participants (participant_id), 
	FOREIGN KEY(opening_id) REFERENCES openings (opening_id)
);
INSERT INTO "outcomes" VALUES('E-fac480be4fe9f71d','P-000033','O-00023','suggested',NULL,'2025-01-20 11:07:00.000000','veileder-heimdal-1');
INSERT INTO "outcomes" VALUES('E-b73b8bc4ae9af6ef','P-000033','O-00023','contacted',NULL,'2025-01-27 08:42:00.000000','veileder-heimdal-1');
INSERT INTO "outcomes" VALUES('E-38c9d917d3ccce62','P-000033','O-00023','declined_by_employer','valgte en annen kandidat','2025-01-31 14:12:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-8c46ac5867de146e','P-000067','O-00069','suggested',NULL,'2025-06-19 08:59:00.000000','veileder-heimdal-3');
INSERT INTO "outcomes" VALUES('E-54b84fb7303b0fec','P-000064','O-00069','suggested',NULL,'2025-06-19 09:31:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-f2e458089782c082','P-000064','O-00069','declined_by_participant','for lang reisevei','2025-06-29 09:57:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-67032a801fd1e35f','P-000067','O-00069','contacted',NULL,'2025-06-29 11:06:00.000000','veileder-heimdal-3');
INSERT INTO "outcomes" VALUES('E-25fec3ec16453fab','P-000067','O-00069','declined_by_employer','valgte en annen kandidat','2025-07-13 15:06:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-34896b772ded897e','P-000064','O-00043','suggested',NULL,'2025-07-27 15:48:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-c6f550faf656eea1','P-000064','O-00043','contacted',NULL,'2025-08-01 14:38:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-84ceb9686d230a3a','P-000064','O-00043','declined_by_employer','valgte en annen kandidat','2025-08-06 12:20:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-0ce998283d6a1b45','P-000008','O-00043','suggested',NULL,'2026-01-10 14:46:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-78eeba689460bb64','P-000008','O-00043','contacted',NULL,'2026-01-18 10:45:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-7315ef080df72a64','P-000008','O-00043','trial_started',NULL,'2026-01-25 11:03:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-02c1e86cc27a41eb','P-000008','O-00063','suggested',NULL,'2026-02-17 10:13:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-c682ba7f6454edd9','P-000008','O-00063','contacted',NULL,'2026-02-19 10:35:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-fe29f332b8f33ba3','P-000064','O-00063','suggested',NULL,'2026-02-20 11:17:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-2d927786eb10e35c','P-000064','O-00077','suggested',NULL,'2026-02-20 14:37:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-bef60a911934fa6e','P-000064','O-00063','contacted',NULL,'2026-02-22 14:15:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-8714aa7b01595879','P-000064','O-00063','declined_by_employer','valgte en annen kandidat','2026-02-27 09:33:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-1f253ac31232a3a1','P-000064','O-00077','contacted',NULL,'2026-02-28 14:25:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-1b135da6890bae35','P-000064','O-00077','declined_by_employer','valgte en annen kandidat','2026-03-08 08:53:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-d9d3f2d182421929','P-000008','O-00063','declined_by_employer','valgte en annen kandidat','2026-03-09 13:33:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-e3e3bcc1484d426b','P-000033','O-00063','suggested',NULL,'2026-03-11 15:00:00.000000','veileder-heimdal-1');
INSERT INTO "outcomes" VALUES('E-04dc3ca8b78bc383','P-000033','O-00063','contacted',NULL,'2026-03-19 10:00:00.000000','veileder-heimdal-1');
INSERT INTO "outcomes" VALUES('E-9b4076d75a5850de','P-000033','O-00063','declined_by_employer','valgte en annen kandidat','2026-03-22 12:34:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-28dcc4c163360f0b','P-000008','O-00043','declined_by_participant','avbrøt arbeidstreningen','2026-03-31 15:38:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-61b839181c9756b4','P-000064','O-00040','suggested',NULL,'2026-05-29 10:01:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-a21889c167e36f11','P-000064','O-00040','contacted',NULL,'2026-05-31 08:31:00.000000','veileder-heimdal-4');
INSERT INTO "outcomes" VALUES('E-33720994b2a0e354','P-000064','O-00040','interview',NULL,'2026-06-18 11:06:00.000000','employer');
INSERT INTO "outcomes" VALUES('E-188d08b61c002598','P-000064','O-00040','hired',NULL,'2026-06-29 14:01:00.000000','employer');
CREATE TABLE participant_lists (
	run_id VARCHAR(40) NOT NULL, 
	participant_id VARCHAR(40) NOT NULL, 
	opening_ids TEXT NOT NULL, 
	scores BLOB NOT NULL, 
	levels BLOB NOT NULL, 
	PRIMARY KEY (run_id, participant_id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id)
);
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000001','["O-00073","O-00003","O-00027","O-00004","O-00036"]',X'0817A6CD2FBAD73F1CB7CBE3A083CA3F947F23F6781FC83F2F281FDADE36C53F62B8CA70E15AC03F',X'020200000302020202000201010000020302020202010201010000000302020202000201000000000302020202010201000000000302020202000101');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000007','["O-00004","O-00003","O-00027","O-00073","O-00038","O-00036"]',X'7F50FB7463A9E13F9B3495A79A87D73FB019B5E53D94C13F5A39A367CBB2C03F1DC8ADEBD076B83FD4DAE88DF5F0B73F',X'040304040302020202010201030304040302000202010201000200000302000202000201000000000302000202000201000000000302000200000201000000000302020200000101');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000008','["O-00052","O-00030"]',X'9487B003BCB5D93F70AD08434493C23F',X'020300040302010202010201010000000202000202020201');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000012','["O-00052","O-00027","O-00004","O-00003"]',X'454FC7B424A4D13F69D6A49E6BF3C73F717CECAA5AE9C33FAF7CD852F06CC13F',X'030204040102020202010200010000000302020202000200010000000202020202010200000000000202020202010200');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000020','["O-00027","O-00003","O-00004"]',X'210B304C5DB0D33F4D663D8D073ACA3F72D691CF257AC23F',X'020000000202020202000201010300020202020202010201000200000202020202010201');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000024','["O-00004","O-00027","O-00003"]',X'34EB8B9D3D19C33F34EB8B9D3D19C33F5A39A367CBB2C03F',X'010000000302000202010201010000000302000202000201000000000302000202010201');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000032','["O-00052","O-00003","O-00027","O-00004","O-00030"]',X'210B304C5DB0D33F1CB7CBE3A083CA3F947F23F6781FC83F2F281FDADE36C53FC6D7880E6B02AE3F',X'020000000202020202010201010000020302020202010201010000000302020202000201000000000302020202010201000000000002020202020201');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000033','["O-00052","O-00030"]',X'DB2E464D63A3B13F7E5B514774CCA73F',X'010000000301000002010201010000000000000202020201');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000056','["O-00027","O-00030","O-00052","O-00003","O-00004","O-00073","O-00038","O-00036"]',X'649CC67AFB1BD23FE6CFBF108944C43F34EB8B9D3D19C33F635D9EB2C43AC13F635D9EB2C43AC13F4960B4804E10BE3FDEE3E696B146BC3FAD4AB93F2A79B53F',X'020200000300000202000201010000000300000202020201010000000301000202010201010000000300000202010201010000000300000202010201000000000300000202000201000000000300000201000201000000000300000201000101');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000061','["O-00003","O-00052","O-00004","O-00030","O-00027"]',X'FE2B12F77E82DF3FFE2B12F77E82DF3F26F695E1BE47D43F6F9BEC1CAA64CF3F854F1180B0F4C23F',X'040300020302000202010202040300040302000202010202030200000302000202010202030200000102000202020202010000000302000202000200');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000064','["O-00052","O-00030"]',X'854F1180B0F4C23F20952A3466F4B83F',X'010000000302000202010200010000000100000202020200');
INSERT INTO "participant_lists" VALUES('20261129T201508-8723ba','P-000067','["O-00052"]',X'573026D4E802C93F',X'020100000102000202010201');
CREATE TABLE participants (
	participant_id VARCHAR(40) NOT NULL, 
	office_id VARCHAR(40) NOT NULL, 
	registered_at DATE NOT NULL, 
	postal_code VARCHAR(4) NOT NULL, 
	lat FLOAT NOT NULL, 
	lon FLOAT NOT NULL, 
	max_commute_km FLOAT NOT NULL, 
	desired_titles JSON NOT NULL, 
	desired_styrk08 JSON NOT NULL, 
	skills JSON NOT NULL, 
	experience JSON NOT NULL, 
	education_level VARCHAR(20) NOT NULL, 
	norwegian_level VARCHAR(12) NOT NULL, 
	driving_licences JSON NOT NULL, 
	max_hours_per_week FLOAT NOT NULL, 
	wants_part_time BOOLEAN NOT NULL, 
	available_from DATE, 
	goal VARCHAR(8) NOT NULL, 
	adaptation_needs JSON NOT NULL, 
	shares_needs_with_employers BOOLEAN NOT NULL, 
	preferred_industries JSON NOT NULL, 
	trusted_person VARCHAR(200), 
	PRIMARY KEY (participant_id), 
	FOREIGN KEY(office_id) REFERENCES offices (office_id)
);
INSERT INTO "participants" VALUES('P-000001','nav-heimdal','2026-05-01','7098',63.3689,10.3568,15.0,'["Renholdere i virksomheter (kontor)"]','["9112"]','["esco:2ed98048", "esco:7b4bc709", "esco:bb62b926", "esco:bef359eb", "esco:d05ae693"]','[{"styrk08": "9112", "years": 3.5}]','bachelor','B2','["B"]',37.5,0,NULL,'job','[]',0,'[]','Bror');
INSERT INTO "participants" VALUES('P-000007','nav-heimdal','2025-08-31','7099',63.3761,10.3505,15.0,'["Institusjonskokk"]','["5120"]','["esco:0ff99f51", "esco:341cf309", "esco:4b15a965", "esco:8c8da904", "esco:9ccd8da7", "esco:bb84d739", "esco:c42d2a2a", "esco:c747ab82", "esco:c87c5366"]','[{"styrk08": "5120", "years": 4.5}, {"styrk08": "9313", "years": 2.0}]','primary','C1','["B", "C", "CE"]',37.5,0,'2025-10-07','job','["TUNGE_L\u00d8FT"]',1,'[]','Søster');
INSERT INTO "participants" VALUES('P-000008','nav-heimdal','2025-12-16','7088',63.3561,10.348,25.0,'["Butikkmedarbeider (salg av selskapst\u00f8y)"]','["5223"]','[]','[{"styrk08": "5223", "years": 8.0}]','upper_secondary','B2','["B"]',37.5,0,NULL,'trial','["ARBEIDSSTILLING", "TUNGE_L\u00d8FT"]',1,'[]',NULL);
INSERT INTO "participants" VALUES('P-000012','nav-heimdal','2025-12-04','7091',63.3619,10.3898,8.0,'["butikkmedarbeider", "Telefon selger", "security guard"]','["5223", "5244", "5414"]','["esco:00e53a0a", "esco:415abd43", "esco:7e9daad3", "esco:a89c463d", "esco:debb8d81"]','[{"styrk08": "5322", "years": 2.5}, {"styrk08": "5223", "years": 2.0}]','none','B1','[]',37.5,0,'2026-01-02','either','[]',0,'["N"]',NULL);
INSERT INTO "participants" VALUES('P-000020','nav-heimdal','2026-01-20','7026',63.3855,10.3303,10.0,'["Hejlpearbeider i bygg", "gravemaskinkj\u00f8rer"]','["9313", "8342"]','["esco:11c0bfec", "esco:2d28964f", "esco:2e04e83a", "esco:425ddacc", "esco:4af56376", "esco:4fa2d6ba", "esco:50f2d23c", "esco:62f058fc"]','[{"styrk08": "5246", "years": 3.0}]','vocational','native','[]',37.5,0,NULL,'job','[]',0,'[]','Ektefelle');
INSERT INTO "participants" VALUES('P-000024','nav-heimdal','2026-09-30','7075',63.376414,10.383803,12.0,'["kioskmedarbeider"]','["5223"]','["esco:00e53a0a", "esco:1585fc98", "esco:415abd43", "esco:7e9daad3", "esco:d6d3fee7", "esco:debb8d81", "esco:fb3bc9b5"]','[]','upper_secondary','B2','[]',37.5,0,NULL,'job','["OPPGAVER", "OPPL\u00c6RING"]',1,'[]',NULL);
INSERT INTO "participants" VALUES('P-000032','nav-heimdal','2026-10-15','7092',63.3516,10.385,8.0,'["forpleiningsassistent"]','["9112"]','["esco:00ec5333", "esco:09dea77e", "esco:110d7aa3", "esco:2ed98048", "esco:3573a4e0", "esco:66ea3249", "esco:7b4bc709", "esco:bef359eb", "esco:cc948c21", "esco:d05ae693"]','[]','upper_secondary','native','[]',37.5,0,NULL,'either','[]',0,'[]',NULL);
INSERT INTO "participants" VALUES('P-000033','nav-heimdal','2025-01-06','7098',63.3689,10.3568,12.0,'["healthcare assistant", "home care aide"]','["5321", "5322"]','["esco:24f980ba", "esco:98eb1f3b"]','[]','bachelor','none','[]',15.0,1,NULL,'trial','["IKKE_HELE_DAGER"]',0,'[]',NULL);
INSERT INTO "participants" VALUES('P-000056','nav-heimdal','2026-02-09','7099',63.3761,10.3505,60.0,'["maternity support worker", "Hjelpearbeideri bygg"]','["5321", "9313"]','["esco:24f980ba", "esco:62268d9a", "esco:68088afb", "esco:76395873", "esco:98eb1f3b", "esco:9fcf9918", "esco:a17286c5"]','[{"styrk08": "9313", "years": 3.0}]','upper_secondary','native','["B", "C", "CE"]',15.0,1,NULL,'either','["PERSONLIG_BISTAND", "TETT_OPPF\u00d8LGING"]',0,'[]',NULL);
INSERT INTO "participants" VALUES('P-000061','nav-heimdal','2025-09-29','7092',63.3516,10.385,15.0,'["Gaekj\u00f8kkenmedarbeider", "kantinemedarbeider"]','["5246", "9412"]','[]','[{"styrk08": "5246", "years": 3.5}]','bachelor','native','[]',37.5,0,NULL,'either','["ERGONOMI"]',0,'["I", "Q"]',NULL);
INSERT INTO "participants" VALUES('P-000064','nav-heimdal','2025-04-26','7072',63.3517,10.365,12.0,'["Persnolig assistent (syke- og helsevern)", "Byggtapetserer"]','["5322", "7131"]','[]','[]','upper_secondary','native','[]',20.0,1,NULL,'trial','["GRADVIS_\u00d8KNING", "OPPGAVER"]',0,'["Q"]',NULL);
INSERT INTO "participants" VALUES('P-000067','nav-heimdal','2025-06-10','7072',63.3517,10.365,5.0,'["lagerekspedit\u00f8r", "Kantinearbeider (rydding)"]','["4321", "9412"]','["esco:05fe02a3", "esco:07c29939", "esco:0c944316", "esco:1973c966", "esco:1f857013", "esco:35718973", "esco:f632251a"]','[{"styrk08": "9412", "years": 0.5}, {"styrk08": "7126", "years": 5.0}]','vocational','native','[]',37.5,0,NULL,'trial','["FLEKSIBEL", "IKKE_HELE_DAGER"]',0,'[]',NULL);
CREATE TABLE refresh_lock (
	id INTEGER NOT NULL, 
	run_id VARCHAR(40), 
	owner VARCHAR(200), 
	heartbeat_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "refresh_lock" VALUES(1,NULL,'vm:15042','2026-11-29 20:15:08.321505');
CREATE TABLE runs (
	run_id VARCHAR(40) NOT NULL, 
	status VARCHAR(12) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	as_of DATE NOT NULL, 
	model_version VARCHAR(40) NOT NULL, 
	backend VARCHAR(20) NOT NULL, 
	top_k INTEGER NOT NULL, 
	n_participants INTEGER, 
	n_openings INTEGER, 
	n_pairs INTEGER, 
	error TEXT, 
	PRIMARY KEY (run_id)
);
INSERT INTO "runs" VALUES('20261129T201508-8723ba','published','2026-11-29 20:15:08.143266','2026-11-29 20:15:08.320013','2026-11-16','1.7f390a4f','local',50,12,8,46,NULL);
CREATE TABLE serving (
	id INTEGER NOT NULL, 
	run_id VARCHAR(40) NOT NULL, 
	previous_run_id VARCHAR(40), 
	published_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_id), 
	FOREIGN KEY(previous_run_id) REFERENCES runs (run_id)
);
INSERT INTO "serving" VALUES(1,'20261129T201508-8723ba',NULL,'2026-11-29 20:15:08.320013');
CREATE INDEX ix_audit_participant ON audit_log (participant_id);
CREATE INDEX ix_participants_office ON participants (office_id);
CREATE INDEX ix_openings_office ON openings (office_id);
CREATE INDEX ix_outcomes_pair ON outcomes (participant_id, opening_id);
CREATE TRIGGER bump_version_participants_insert AFTER INSERT ON participants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_participants_update AFTER UPDATE ON participants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_participants_delete AFTER DELETE ON participants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_openings_insert AFTER INSERT ON openings BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_openings_update AFTER UPDATE ON openings BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_openings_delete AFTER DELETE ON openings BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_employers_insert AFTER INSERT ON employers BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_employers_update AFTER UPDATE ON employers BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER bump_version_employers_delete AFTER DELETE ON employers BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
COMMIT;
